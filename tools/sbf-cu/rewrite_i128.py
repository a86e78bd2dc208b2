#!/usr/bin/env python3
"""Rewrites the i128 operations upstream LLVM 22's BPF backend cannot lower (mul, udiv/urem,
variable shifts, umul.with.overflow) into calls to the u64-only helpers in
probe/src/wide_helpers.rs, and marks functions needing more than 5 argument registers
alwaysinline. Usage: rewrite_i128.py in.ll out.ll"""
import re, sys
# `range(iN a, b)` attributes are optimisation hints; the rewritten operands must not carry them.
src = re.sub(r' range\(i\d+ -?\d+, -?\d+\)', '', open(sys.argv[1]).read()).split('\n')
out = []
n = 0
stats = {}
BIN = re.compile(r'^(\s*)(%[-\w.$]+) = (mul|udiv|urem|shl|lshr|ashr)((?: nuw| nsw| exact)*) i128 ([^,]+), (.+?)\s*$')
UMULO = re.compile(r'^(\s*)(%[-\w.$]+) = (?:tail )?call (?:[\w()., ]* )?\{ i128, i1 \} @llvm\.umul\.with\.overflow\.i128\(i128 (?:noundef )?([^,]+), i128 (?:noundef )?(.+?)\)\s*(?:#\d+)?\s*$')
UMULO64 = re.compile(r'^(\s*)(%[-\w.$]+) = (?:tail )?call (?:[\w()., ]* )?\{ i64, i1 \} @llvm\.umul\.with\.overflow\.i64\(i64 (?:noundef )?([^,]+), i64 (?:noundef )?(.+?)\)\s*(?:#\d+)?\s*$')
func_allocas = None
entry_insert_at = None
def split(v, tag, lines, ind):
    lines.append(f'{ind}{tag}.lo = trunc i128 {v} to i64')
    lines.append(f'{ind}{tag}.hs = lshr i128 {v}, 64')
    lines.append(f'{ind}{tag}.hi = trunc i128 {tag}.hs to i64')
    return f'{tag}.lo', f'{tag}.hi'
def join(tag, slot, off, lines, ind, res=None):
    p0 = f'{tag}.p{off}'
    lines.append(f'{ind}{p0} = getelementptr inbounds i8, ptr {slot}, i64 {off*8}')
    lines.append(f'{ind}{tag}.rl{off} = load i64, ptr {p0}, align 8')
    lines.append(f'{ind}{p0}h = getelementptr inbounds i8, ptr {slot}, i64 {off*8+8}')
    lines.append(f'{ind}{tag}.rh{off} = load i64, ptr {p0}h, align 8')
    lines.append(f'{ind}{tag}.zl{off} = zext i64 {tag}.rl{off} to i128')
    lines.append(f'{ind}{tag}.zh{off} = zext i64 {tag}.rh{off} to i128')
    lines.append(f'{ind}{tag}.sh{off} = shl i128 {tag}.zh{off}, 64')
    lines.append(f'{ind}{res or tag + ".j" + str(off)} = or i128 {tag}.sh{off}, {tag}.zl{off}')
i = 0
result = []
cur_fn_start = None
allocas = []
for line in src:
    if line.startswith('define '):
        cur_fn_start = len(result)
        allocas = []
        result.append(line)
        continue
    if line == '}' and cur_fn_start is not None:
        if allocas:
            # insert after the define line and the entry label (if any)
            pos = cur_fn_start + 1
            if re.match(r'^[-\w.$]+:', result[pos]):
                pos += 1
            result[pos:pos] = allocas
        cur_fn_start = None
        result.append(line)
        continue
    m = BIN.match(line)
    if m:
        ind, dst, op, flags, a, b = m.groups()
        if op in ('shl', 'lshr', 'ashr') and re.fullmatch(r'-?\d+', b.strip()):
            result.append(line); continue  # constant shifts lower fine
        n += 1; tag = f'%rw{n}'; slot = f'%rw{n}.slot'
        stats[op] = stats.get(op, 0) + 1
        allocas.append(f'  {slot} = alloca [4 x i64], align 8')
        lines = []
        alo, ahi = split(a, tag + 'a', lines, ind)
        if op in ('shl', 'lshr', 'ashr'):
            lines.append(f'{ind}{tag}.amt = trunc i128 {b} to i64')
            lines.append(f'{ind}call void @__rwa_{op}128(ptr {slot}, i64 {alo}, i64 {ahi}, i64 {tag}.amt)')
            join(tag, slot, 0, lines, ind, dst)
        else:
            blo, bhi = split(b, tag + 'b', lines, ind)
            fn = {'mul': 'mul128', 'udiv': 'udivrem128', 'urem': 'udivrem128'}[op]
            lines.append(f'{ind}call void @__rwa_{fn}(ptr {slot}, i64 {alo}, i64 {ahi}, i64 {blo}, i64 {bhi})')
            join(tag, slot, 2 if op == 'urem' else 0, lines, ind, dst)
        result.extend(lines); continue
    m = UMULO.match(line)
    if m:
        ind, dst, a, b = m.groups()
        n += 1; tag = f'%rw{n}'; slot = f'%rw{n}.slot'
        stats['umulo'] = stats.get('umulo', 0) + 1
        allocas.append(f'  {slot} = alloca [4 x i64], align 8')
        lines = []
        alo, ahi = split(a, tag + 'a', lines, ind)
        blo, bhi = split(b, tag + 'b', lines, ind)
        lines.append(f'{ind}call void @__rwa_umulo128(ptr {slot}, i64 {alo}, i64 {ahi}, i64 {blo}, i64 {bhi})')
        join(tag, slot, 0, lines, ind, f'{tag}.prod')
        lines.append(f'{ind}{tag}.op = getelementptr inbounds i8, ptr {slot}, i64 16')
        lines.append(f'{ind}{tag}.ov = load i64, ptr {tag}.op, align 8')
        lines.append(f'{ind}{tag}.of = trunc i64 {tag}.ov to i1')
        lines.append(f'{ind}{tag}.agg = insertvalue {{ i128, i1 }} poison, i128 {tag}.prod, 0')
        lines.append(f'{ind}{dst} = insertvalue {{ i128, i1 }} {tag}.agg, i1 {tag}.of, 1')
        result.extend(lines); continue
    m = UMULO64.match(line)
    if m:
        ind, dst, a, b = m.groups()
        n += 1; tag = f'%rw{n}'; slot = f'%rw{n}.slot'
        stats['umulo64'] = stats.get('umulo64', 0) + 1
        allocas.append(f'  {slot} = alloca [4 x i64], align 8')
        result.append(f'{ind}call void @__rwa_umulo64(ptr {slot}, i64 {a}, i64 {b})')
        result.append(f'{ind}{tag}.lo = load i64, ptr {slot}, align 8')
        result.append(f'{ind}{tag}.op = getelementptr inbounds i8, ptr {slot}, i64 8')
        result.append(f'{ind}{tag}.ov = load i64, ptr {tag}.op, align 8')
        result.append(f'{ind}{tag}.of = trunc i64 {tag}.ov to i1')
        result.append(f'{ind}{tag}.agg = insertvalue {{ i64, i1 }} poison, i64 {tag}.lo, 0')
        result.append(f'{ind}{dst} = insertvalue {{ i64, i1 }} {tag}.agg, i1 {tag}.of, 1')
        continue
    result.append(line)

# functions needing > 5 argument registers (i128 counts 2): force inlining
text = '\n'.join(result)
forced = []
def params_regs(sig):
    depth = 0; cur = ''; parts = []
    for ch in sig:
        if ch in '([{<': depth += 1
        if ch in ')]}>': depth -= 1
        if ch == ',' and depth == 0: parts.append(cur); cur = ''
        else: cur += ch
    if cur.strip(): parts.append(cur)
    return sum(2 if p.strip().startswith('i128') else 1 for p in parts)
lines = text.split('\n')
for k, line in enumerate(lines):
    m = re.match(r'^define (.*?)(@[-\w.$"]+)\((.*)\)(.*)\{$', line)
    if m and params_regs(m.group(3)) > 5:
        forced.append(m.group(2))
        tail = m.group(4)
        tail = re.sub(r'(\s#\d+\s*)$', r' alwaysinline\1', tail) if re.search(r'#\d+\s*$', tail) else tail.rstrip() + ' alwaysinline '
        lines[k] = f'define {m.group(1)}{m.group(2)}({m.group(3)}){tail}{{'
text = '\n'.join(lines)
if forced:
    text = re.sub(r'^(attributes #\d+ = \{[^}]*?)\bnoinline\b', r'\1', text, flags=re.M)
# upstream BPF rejects sret ("aggregate returns are not supported"); the pointer stays a plain argument
text, nsret = re.subn(r' sret\((?:[^()]|\([^()]*\))*\)', '', text)
stats['sret_stripped'] = nsret
open(sys.argv[2], 'w').write(text)
sys.stderr.write(f'rewrote {n} i128 ops {stats}; forced inline {len(forced)}: {forced[:8]}\n')
