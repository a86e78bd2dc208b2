//! Dense linear algebra on row-major n x n matrices in one allocation, shared by the ERC solver
//! and the valuation model: a SIMD-friendly dot product, Cholesky factorisation and the two
//! triangular solves.

/// Dot product with four independent accumulators: the compiler may not reorder a single float
/// sum, so this is what lets it use SIMD lanes.
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let (a4, a_rest) = a.split_at(a.len() / 4 * 4);
    let (b4, b_rest) = b.split_at(a4.len());
    for (x, y) in a4.chunks_exact(4).zip(b4.chunks_exact(4)) {
        acc[0] += x[0] * y[0];
        acc[1] += x[1] * y[1];
        acc[2] += x[2] * y[2];
        acc[3] += x[3] * y[3];
    }
    let mut total = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for (x, y) in a_rest.iter().zip(b_rest) {
        total += x * y;
    }
    total
}

/// m v for a row-major n x n matrix.
pub fn mat_vec(m: &[f64], v: &[f64], n: usize) -> Vec<f64> {
    (0..n).map(|i| dot(&m[i * n..(i + 1) * n], v)).collect()
}

/// Overwrites the lower triangle of symmetric `h` (row-major n x n) with L, L L' = h; false
/// (h partly overwritten) unless h is numerically positive definite.
pub fn cholesky_in_place(h: &mut [f64], n: usize) -> bool {
    for i in 0..n {
        for j in 0..=i {
            let (upper, lower) = h.split_at_mut(i * n);
            let row_i = &lower[..n];
            let value = if j == i {
                row_i[j] - dot(&row_i[..j], &row_i[..j])
            } else {
                let row_j = &upper[j * n..j * n + n];
                (row_i[j] - dot(&row_i[..j], &row_j[..j])) / row_j[j]
            };
            if j == i {
                if !(value > 0.0 && value.is_finite()) {
                    return false;
                }
                lower[j] = value.sqrt();
            } else {
                lower[j] = value;
            }
        }
    }
    true
}

/// L with L L' = a (row-major n x n, a left untouched); None unless a is positive definite.
pub fn cholesky(a: &[f64], n: usize) -> Option<Vec<f64>> {
    let mut l = a.to_vec();
    if !cholesky_in_place(&mut l, n) {
        return None;
    }
    for i in 0..n {
        l[i * n + i + 1..(i + 1) * n].fill(0.0);
    }
    Some(l)
}

/// x with L L' x = b, L the lower triangle of `l` (what the upper holds is ignored).
pub fn cholesky_solve(l: &[f64], b: &[f64], n: usize) -> Vec<f64> {
    let mut y = vec![0.0; n];
    for i in 0..n {
        let row = &l[i * n..i * n + i];
        y[i] = (b[i] - dot(row, &y[..i])) / l[i * n + i];
    }
    // Back substitution with L' by columns of L: subtract each solved x_i from the rest.
    let mut x = y;
    for i in (0..n).rev() {
        x[i] /= l[i * n + i];
        let xi = x[i];
        let row = &l[i * n..i * n + i];
        for (value, l) in x[..i].iter_mut().zip(row) {
            *value -= l * xi;
        }
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_factors_and_solves_a_known_system() {
        // a = L L' with L = [[2, 0, 0], [1, 3, 0], [-1, 0.5, 1]]
        let l = [2.0, 0.0, 0.0, 1.0, 3.0, 0.0, -1.0, 0.5, 1.0];
        let mut a = [0.0; 9];
        for i in 0..3 {
            for j in 0..3 {
                a[i * 3 + j] = (0..3).map(|k| l[i * 3 + k] * l[j * 3 + k]).sum();
            }
        }
        let factor = cholesky(&a, 3).unwrap();
        for (x, y) in factor.iter().zip(&l) {
            assert!((x - y).abs() < 1e-12, "{factor:?}");
        }
        let x = cholesky_solve(&factor, &[1.0, 2.0, 3.0], 3);
        let back = mat_vec(&a, &x, 3);
        for (b, want) in back.iter().zip([1.0, 2.0, 3.0]) {
            assert!((b - want).abs() < 1e-12, "{back:?}");
        }
        assert_eq!(cholesky(&[1.0, 2.0, 2.0, 1.0], 2), None, "indefinite");
        assert!((dot(&[1.0; 7], &[2.0; 7]) - 14.0).abs() < 1e-15);
    }
}
