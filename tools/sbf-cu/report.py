#!/usr/bin/env python3
"""Turns the runner's output into the markdown CU tables.

Usage: report.py CASES_TXT RUNNER_TXT [--out FILE]

CASES_TXT: "label hexdata" lines from the cases crate (bytes 2..6 of the data = expected checksum).
RUNNER_TXT: "OK label cu=N ..." / "FAIL label cu=N err=..." lines from the runner.
Every CU figure is the case's compute_units_consumed minus the `noop` case's (same transaction
shape: ComputeBudget ix + entrypoint/dispatch, no math). Labels:
  <curve>.<supply>.<op>  -> curve table cell (row op, column curve x supply)
  <curve>.<op>           -> curve table row, same value under every supply of that curve
  anything else          -> second table, one row per label; X and X_baseline add a row X minus baseline
Budgets (issue 13): every curve-table figure (any single trade's math, searches included) <= 40k;
oracle record + twap <= 10k; refresh_collateral math <= 15k; portfolio_sigma over 8 assets <= 40k.
Each budgeted figure is printed with its budget; one over budget is marked OVER.
Exit status: 0 when every case ran, matched its checksum and met its budget; 1 when a case failed;
4 when all ran but a figure is over budget.
"""
import re
import sys

CURVE_ROWS = [  # (op, row title), in table order; ops not listed here follow in case order
    ('buy_cost', 'buy_cost (1,000 tokens)'),
    ('sell_proceeds', 'sell_proceeds (1,000 tokens)'),
    ('buy_amount_for_quote', 'buy_amount_for_quote (1,000 quote)'),
    ('sell_amount_for_quote', 'sell_amount_for_quote (1,000 quote)'),
    ('solvency_sell_all', 'check_solvency: spot_price(S) + reserve_floor(S, spot)'),
    ('spot_price', 'spot_price'),
    ('buy_exact_in_all_math', 'buy_exact_in math total*'),
    ('sell_exact_in_all_math', 'sell_exact_in math total*'),
    ('buy_exact_out_all_math', 'buy_exact_out math total*'),
    ('sell_exact_out_all_math', 'sell_exact_out math total*'),
    ('validate_max_supply', 'validate(max_supply) (initialize_market)'),
]
CURVE_SHORT = {'exponential': 'exp'}
OTHER_ROWS = {
    'oracle.record': 'oracle record() (a settlement: decay, squared log return, EWMA, cumulative)',
    'oracle.twap_64': 'twap over 64 checkpoints (raw, includes building them)',
    'oracle.twap_64_baseline': '&nbsp;&nbsp;building the 64 checkpoints only',
    'lending.refresh_collateral_math': 'refresh_collateral math (variance_at, volatility, volatility_over, '
                                       'bands, annualize, borrow_rate, collateral_ratio_bps)',
    'lending.accrue_150_slots': 'accrue (150 slots, 10% APR)',
    'lending.accrue_1_year': 'accrue (1 year, 10% APR)',
    'lending.collateral_value_limits': '2x collateral_value + 2x limit_at_ratio',
    'lending.portfolio_sigma_3': 'portfolio_sigma, 3 assets',
    'lending.portfolio_sigma_8': 'portfolio_sigma, 8 assets',
}
CURVE_BUDGET = 40_000
OTHER_BUDGETS = {
    'lending.refresh_collateral_math': 15_000,
    'lending.portfolio_sigma_8': 40_000,
}
ORACLE_BUDGET = 10_000
DERIVED_TITLE = {'oracle.twap_64': '=> twap alone (64 checkpoints)'}
FOOTNOTE = ('\\* "buy_exact_in math total": max_net_for_gross + buy_amount_for_quote + fee_on + spot_price '
            'before/after + check_solvency (sell_proceeds(S\', S\')); "sell_exact_in math total": sell_proceeds + '
            'fee_on + 2x spot_price + check_solvency; "buy_exact_out": buy_cost + fee_on + 2x spot_price + check_solvency; '
            '"sell_exact_out": min_gross_for_net + sell_amount_for_quote + fee_on + 2x spot_price + check_solvency. '
            'Anchor/account/CPI overhead is not included.')


def fmt(n):
    return f'{n:,}'


def main(argv):
    out_file = None
    if '--out' in argv:
        k = argv.index('--out')
        out_file = argv[k + 1]
        argv = argv[:k] + argv[k + 2:]
    if len(argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    cases_txt, runner_txt = argv

    labels, expected = [], {}
    for line in open(cases_txt):
        parts = line.split()
        if len(parts) == 2:
            label, data = parts
            labels.append(label)
            expected[label] = int.from_bytes(bytes.fromhex(data[4:12]), 'little')

    results, problems = {}, []  # label -> cu
    for line in open(runner_txt):
        if line.startswith('LOAD_ERROR'):
            problems.append(f'the program did not load: {line.strip()}')
        m = re.match(r'(OK|FAIL) (\S+) cu=(\d+)(?: err=(.*))?', line)
        if not m:
            continue
        status, label, cu, err = m.group(1), m.group(2), int(m.group(3)), m.group(4)
        if status == 'OK':
            results[label] = cu
            continue
        got = re.search(r'Custom\((\d+)\)', err or '')
        if got:
            problems.append(f'{label}: checksum mismatch: SBF result {int(got.group(1)):#010x}, '
                            f'native x86_64 result {expected.get(label, 0):#010x}')
        else:
            problems.append(f'{label}: failed on chain: {err}')
        results[label] = None
    for label in labels:
        if label not in results:
            problems.append(f'{label}: no result from the runner')

    noop = results.get('noop')
    if noop is None:
        problems.append('noop: the empty call did not succeed, so no CU can be computed')
        noop = 0

    def net(label):
        cu = results.get(label)
        return None if cu is None else cu - noop

    over = []

    def cell(label, budget=None):
        v = net(label)
        if v is None:
            return 'FAIL'
        if budget is None:
            return fmt(v)
        if v > budget:
            over.append(f'{label}: {fmt(v)} > {fmt(budget)}')
            return f'{fmt(v)} OVER'
        return fmt(v)

    # curve table
    cols, rows, cells, curve_level = [], [], {}, {}
    three = [lb.split('.') for lb in labels if len(lb.split('.')) == 3 and re.fullmatch(r's\w+', lb.split('.')[1])]
    curves = []
    for c, s, op in three:
        if c not in curves:
            curves.append(c)
        if (c, s) not in cols:
            cols.append((c, s))
        if op not in rows:
            rows.append(op)
        cells[(op, c, s)] = f'{c}.{s}.{op}'
    for lb in labels:
        p = lb.split('.')
        if len(p) == 2 and p[0] in curves:
            if p[1] not in rows:
                rows.append(p[1])
            curve_level[(p[1], p[0])] = lb
    order = [op for op, _ in CURVE_ROWS if op in rows] + [op for op in rows if op not in dict(CURVE_ROWS)]
    out = []
    if cols:
        out.append('| operation | ' + ' | '.join(
            f'{CURVE_SHORT.get(c, c)} S={s[1:]}' for c, s in cols) + ' | budget |')
        out.append('|---|' + '---:|' * len(cols) + '---:|')
        for op in order:
            vals = []
            for c, s in cols:
                lb = cells.get((op, c, s)) or curve_level.get((op, c))
                vals.append(cell(lb, CURVE_BUDGET) if lb else '')
            out.append(f'| {dict(CURVE_ROWS).get(op, op)} | ' + ' | '.join(vals) + f' | {fmt(CURVE_BUDGET)} |')
        out.append('')
        out.append(FOOTNOTE)
        out.append('')

    # everything else
    used = {v for v in cells.values()} | set(curve_level.values()) | {'noop'}
    other = [lb for lb in labels if lb not in used]
    if other:
        out.append('| operation | CU (minus empty call) | budget |')
        out.append('|---|---:|---:|')
        for lb in other:
            budget = OTHER_BUDGETS.get(lb)
            out.append(f'| {OTHER_ROWS.get(lb, lb)} | {cell(lb, budget)} | {fmt(budget) if budget else ""} |')
        for lb in other:
            base = lb + '_baseline'
            if base in other:
                a, b = net(lb), net(base)
                v = 'FAIL' if a is None or b is None else fmt(a - b)
                out.append(f'| {DERIVED_TITLE.get(lb, "=> " + lb + " minus " + base)} | {v} | |')
        record, twap, base = net('oracle.record'), net('oracle.twap_64'), net('oracle.twap_64_baseline')
        if None not in (record, twap, base) and 'oracle.record' in other:
            total = record + twap - base
            flag = ''
            if total > ORACLE_BUDGET:
                over.append(f'oracle record + twap: {fmt(total)} > {fmt(ORACLE_BUDGET)}')
                flag = ' OVER'
            out.append(f'| => oracle record + twap (one settlement and one read) | {fmt(total)}{flag} | {fmt(ORACLE_BUDGET)} |')
        out.append('')

    out.append(f'Empty call (`noop`, subtracted above): {fmt(noop)} CU. Cases: {len(labels)}, '
               f'failed: {len(problems)}.')
    if problems:
        out.append('')
        for p in problems:
            out.append(f'FAILED {p}')
    if over:
        out.append('')
        for o in over:
            out.append(f'OVER BUDGET {o}')
    else:
        out.append('Every budgeted figure is within its budget.')
    text = '\n'.join(out) + '\n'
    sys.stdout.write(text)
    if out_file:
        with open(out_file, 'w') as f:
            f.write(text)
    return 1 if problems else (4 if over else 0)


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
