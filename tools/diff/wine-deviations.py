# SPDX-License-Identifier: GPL-2.0-only
"""Wine's known deviations from Windows, as the differential suite sees them.

Each class is a place where Wine (8.0, Debian bookworm) does not do what
Windows does, where docs/windows-rules.md says what Windows does, and where
winvm does that.  tools/diff/compare.py asks each class's matcher whether it
explains one difference: a hunk of lines that differ, Wine's side and
winvm's side.  Anything no class explains fails the run.

A class is only added here after checking the rule: when winvm and Windows
disagree, that is a winvm bug to fix, never a deviation to list.

Lines are those of tools/diff/scenario.c: "<op> <args> @<state> -> <result>",
where @<state> is the page's state before the call (@F free, @RP/@CP
reserved/committed private, @RM/@CM in a view).
"""
import re

CALL = re.compile(r'^(?P<call>[afpuwrxm] .* (?P<st>@\w+)) -> (?P<res>.*)$')
QUERY = re.compile(r'^q (?P<q>\+\w+) -> b=(?P<b>\S+) ab=(?P<ab>\S+) ap=(?P<ap>\w+) '
                   r'rs=(?P<rs>\w+) st=(?P<st>\w) pr=(?P<pr>\w+) ty=(?P<ty>\w)$')
EXC = re.compile(r'^  x (?P<code>\w+) (?P<kind>.) (?P<addr>\S+)$')


def _call(line):
    return CALL.match(line)


def one_call(pred):
    """A matcher for one call line on each side: same call, results differ."""
    def match(wine, winvm, state):
        if len(wine) != 1 or len(winvm) != 1:
            return False
        a, b = _call(wine[0]), _call(winvm[0])
        if not a or not b or a['call'] != b['call']:
            return False
        return pred(a, b)
    return match


# --- R53: VirtualProtect where no allocation is --------------------------
def _protect_free(a, b):
    return (a['call'].startswith('p ') and a['st'] == '@F' and
            a['res'] == '0 e87' and b['res'] == '0 e487')


# --- R40, R41: VirtualFree where no allocation is ------------------------
def _free_free(a, b):
    return (a['call'].startswith('f ') and a['st'] == '@F' and
            a['res'] == '0 e87' and b['res'] == '0 e487')


# --- R108: access to reserved pages of a SEC_RESERVE view ------------------
def _reserved_view_access(wine, winvm, state):
    """Wine reads or writes a reserved (uncommitted) page of a view; Windows
    raises an access violation, as for any reserved page."""
    prev = _call(state.get('prev', ''))
    if (prev and prev['st'] == '@RM' and prev['call'][0] == 'x' and
            prev['res'] == '-1' and wine and winvm):
        # Both calls failed: Wine on the zeros it ran, winvm on the fetch.
        ea = [EXC.match(x) for x in wine]
        eb = [EXC.match(x) for x in winvm]
        return (all(ea) and all(eb) and eb[-1]['code'] == 'av' and
                eb[-1]['kind'] == 'x' and eb[-1]['addr'] == prev['call'].split()[1])
    if not 1 <= len(wine) <= 2 or not 2 <= len(winvm) <= 3:
        return False
    a, b = _call(wine[0]), _call(winvm[0])
    if not a or not b or a['call'] != b['call'] or a['st'] != '@RM':
        return False
    op = a['call'][0]
    if op not in 'rwx' or b['res'] != '-1':
        return False
    addr = a['call'].split()[1]
    excs = [EXC.match(x) for x in winvm[1:]]
    kind = op
    if op == 'x':
        # Wine ran the page's zeros, which fault writing outside the arena.
        if not all(EXC.match(x) for x in wine[1:]):
            return False
    elif a['res'] == '-1':
        return False
    # A guard on the page comes first on Windows; the access violation last.
    return (all(excs) and excs[-1]['code'] == 'av' and excs[-1]['kind'] == kind and
            excs[-1]['addr'] == addr)


# --- R114: a written write-copy page is a private READWRITE page -----------
class _Written(dict):
    """A write-copy protection (hex, as printed) -> its form once written:
    WRITECOPY -> READWRITE, EXECUTE_WRITECOPY -> EXECUTE_READWRITE, with
    modifiers such as PAGE_NOCACHE (rule R116) kept."""
    BASE = {0x08: 0x04, 0x80: 0x40}

    def _get(self, key):
        try:
            v = int(key, 16)
        except (TypeError, ValueError):
            return None
        if v & 0xff not in self.BASE:
            return None
        return '%x' % (self.BASE[v & 0xff] | (v & ~0xff))

    def __contains__(self, key):
        return self._get(key) is not None

    def __getitem__(self, key):
        r = self._get(key)
        if r is None:
            raise KeyError(key)
        return r


WC = _Written()


def _wc_query_lines(wine, winvm):
    """Wine's view query lines equal winvm's once winvm's written write-copy
    pages are shown as write-copy again and the runs they split are joined."""
    qa = [QUERY.match(x) for x in wine]
    qb = [QUERY.match(x) for x in winvm]
    if not all(qa) or not all(qb):
        return False
    # winvm with written pages shown as Wine shows them.
    norm = []
    changed = False
    for m in qb:
        d = m.groupdict()
        if d['ty'] == 'M' and d['ap'] in WC and d['pr'] == WC[d['ap']]:
            d['pr'] = d['ap']
            changed = True
        if (norm and d['ty'] == 'M' and norm[-1]['ab'] == d['ab'] and
                norm[-1]['pr'] == d['pr'] and norm[-1]['st'] == d['st'] and
                int(norm[-1]['b'][1:], 16) + int(norm[-1]['rs'], 16) == int(d['b'][1:], 16)):
            norm[-1]['rs'] = '%x' % (int(norm[-1]['rs'], 16) + int(d['rs'], 16))
            changed = True
            continue
        norm.append(d)
    if len(norm) != len(qa):
        return False
    for a, b in zip(qa, norm):
        a = a.groupdict()
        if a == b:
            continue
        # A single query (not a walk) of a page next to a written one: Wine's
        # region runs on over the written page.
        if (a['ty'] == 'M' and a['ap'] in WC and a['pr'] == a['ap'] and
                {k: v for k, v in a.items() if k != 'rs'} ==
                {k: v for k, v in b.items() if k != 'rs'} and
                int(a['rs'], 16) > int(b['rs'], 16)):
            changed = True
            continue
        return False
    return changed


def _writecopy_written(wine, winvm, state):
    if _wc_query_lines(wine, winvm):
        return True
    # VirtualProtect of a written page: old READWRITE on Windows.
    if len(wine) == 1 and len(winvm) == 1:
        a, b = _call(wine[0]), _call(winvm[0])
        if (a and b and a['call'] == b['call'] and a['call'].startswith('p ') and
                a['st'] == '@CM'):
            ra, rb = a['res'].split(' old='), b['res'].split(' old=')
            return (len(ra) == 2 and len(rb) == 2 and ra[0] == rb[0] == '1' and
                    ra[1] in WC and WC[ra[1]] == rb[1])
    return False


# --- R5, R7 and 1.6: reserved pages have no protection, so no guard ------
def _reserved_guard(wine, winvm, state):
    """Wine keeps PAGE_GUARD of an allocation's protection on its reserved
    pages: an access raises a guard exception before the access violation,
    and the consumed guard splits Wine's reserved region in its queries."""
    prev = _call(state.get('prev', ''))
    if (not winvm and wine and prev and prev['st'] == '@RP' and
            prev['call'][0] in 'rwx'):
        excs = [EXC.match(x) for x in wine]
        return all(e and e['code'] == 'guard' for e in excs)
    qa = [QUERY.match(x) for x in wine]
    qb = [QUERY.match(x) for x in winvm]
    if not qa or not qb or not all(qa) or not all(qb):
        return False
    merged = []
    for m in qa:
        d = m.groupdict()
        if (merged and d['st'] == 'R' and merged[-1]['st'] == 'R' and
                merged[-1]['ab'] == d['ab'] and merged[-1]['ty'] == d['ty'] and
                merged[-1]['ap'] == d['ap'] and
                int(merged[-1]['b'][1:], 16) + int(merged[-1]['rs'], 16) == int(d['b'][1:], 16)):
            merged[-1]['rs'] = '%x' % (int(merged[-1]['rs'], 16) + int(d['rs'], 16))
            continue
        merged.append(d)
    if len(merged) != len(qb):
        return False
    for a, b in zip(merged, (m.groupdict() for m in qb)):
        if a == b:
            continue
        # A single query inside such a region: Wine's region ends early.
        if (a['st'] == 'R' and int(a['ap'], 16) & 0x100 and
                {k: v for k, v in a.items() if k != 'rs'} ==
                {k: v for k, v in b.items() if k != 'rs'} and
                int(a['rs'], 16) < int(b['rs'], 16)):
            continue
        return False
    return True


# --- R92, R96: an existing name's section keeps its own protection ----------
MAP = re.compile(r'^m s(?P<i>\d) acc=(?P<acc>\w+) o=\w+ \w+ (?P<base>\+\w+) @F -> (?P<res>.*)$')
UNMAP = re.compile(r'^u (?P<base>\+\w+) (?P<st>@\w+) -> (?P<res>.*)$')
CREATE = re.compile(r'^(?P<op>n?s|fs|o)(?P<i>\d) (?:n(?P<n>\d) )?(?:p|acc)=(?P<p>\w+) .*-> '
                    r'(?P<res>.*)$')


def _slot_is_existing_exec(before, slot):
    """Slot's handle came from creating an existing name with an EXECUTE
    protection, or from opening it with SECTION_MAP_EXECUTE, and that
    name's section was created without an EXECUTE protection."""
    name = None
    for k in range(len(before) - 1, -1, -1):
        c = CREATE.match(before[k])
        if before[k] == 'c s%s -> 1' % slot:
            return False
        if not c or c['i'] != slot:
            continue
        # A create of the existing name asking for EXECUTE, or an open
        # with SECTION_MAP_EXECUTE (FILE_MAP_ALL_ACCESS).
        if not ((c['op'] == 'ns' and c['res'] == 'h e183' and int(c['p'], 16) & 0xf0) or
                (c['op'] == 'o' and c['res'] == 'h' and int(c['p'], 16) & 0x8)):
            return False
        name = c['n']
        break
    if name is None:
        return False
    for line in reversed(before[:k]):
        c = CREATE.match(line)
        if c and c['op'] == 'ns' and c['n'] == name and c['res'] == 'h e0':
            return not int(c['p'], 16) & 0xf0
    return False


def _existing_name_exec(wine, winvm, state):
    """Wine maps an EXECUTE view of such a section, winvm refuses it; the
    generator unmaps the view at once: Wine unmaps it, winvm finds nothing
    there.  One call at a time: the map, or the unmap right after it."""
    if len(wine) != 1 or len(winvm) != 1:
        return False
    before = state.get('before', [])
    ua, ub = UNMAP.match(wine[0]), UNMAP.match(winvm[0])
    if ua and ub:
        if not (ua['base'] == ub['base'] and ua['st'] in ('@CM', '@RM') and
                ua['res'] == '1' and ub['st'] == '@F' and ub['res'] == '0 e487'):
            return False
        m = MAP.match(state.get('prev', ''))
        return bool(m and m['base'] == ua['base'] and m['res'] == m['base'] and
                    int(m['acc'], 16) & 0x20 and
                    _slot_is_existing_exec(before[:-1], m['i']))
    ma, mb = MAP.match(wine[0]), MAP.match(winvm[0])
    if not (ma and mb) or wine[0].split(' -> ')[0] != winvm[0].split(' -> ')[0]:
        return False
    return bool(int(ma['acc'], 16) & 0x20 and ma['res'] == ma['base'] and
                mb['res'] == '0 e5' and _slot_is_existing_exec(before, ma['i']))


DEVIATIONS = [
    {
        'name': 'protect-unallocated',
        'rule': 'rule R53',
        'why': 'VirtualProtect of a free address: 64-bit Windows fails with '
               'STATUS_CONFLICTING_ADDRESSES (ERROR_INVALID_ADDRESS, 487); Wine '
               'returns STATUS_INVALID_PARAMETER (87).',
        'match': one_call(_protect_free),
    },
    {
        'name': 'free-unallocated',
        'rule': 'rules R40, R41',
        'why': 'VirtualFree where no allocation is (released, or never '
               'allocated): Windows fails with STATUS_MEMORY_NOT_ALLOCATED '
               '(ERROR_INVALID_ADDRESS, 487); Wine returns STATUS_INVALID_PARAMETER (87).',
        'match': one_call(_free_free),
    },
    {
        'name': 'reserved-view-access',
        'rule': 'rule R108',
        'why': 'A page of a SEC_RESERVE view that no one committed is reserved '
               '(MEM_RESERVE, Protect 0) and has no memory behind it, so touching '
               'it is an access violation on Windows; Wine lets it be read and '
               'written.',
        'match': _reserved_view_access,
    },
    {
        'name': 'reserved-guard',
        'rule': 'rules R5, R7 (and 1.6)',
        'why': 'A reserved page has no protection (Protect 0), so PAGE_GUARD in '
               'the allocation\'s protection does not make it a guard page: '
               'touching it raises only an access violation.  Wine raises a '
               'guard exception first and then shows the reserved run split '
               'where the guard was consumed.',
        'match': _reserved_guard,
    },
    {
        'name': 'writecopy-written',
        'rule': 'rule R114',
        'why': 'A written page of a write-copy view becomes a private READWRITE '
               '(EXECUTE_READWRITE) page: it queries so, in a region of its own, '
               'and VirtualProtect reports it as the old protection; Wine keeps '
               'showing WRITECOPY.',
        'match': _writecopy_written,
    },
    {
        'name': 'existing-name-protection',
        'rule': 'rules R92, R96',
        'why': 'Creating a section under a name that already exists hands back '
               'the section that is there (ERROR_ALREADY_EXISTS), with the '
               'protection it was made with, not the one this call asked for; '
               'and a view may ask for no more than the section\'s protection, '
               'so an EXECUTE view of a section made without execute access is '
               'refused with ERROR_ACCESS_DENIED, whatever rights the handle '
               'holds.  Wine lets any handle with SECTION_MAP_EXECUTE (that '
               'second create, or an OpenFileMapping with FILE_MAP_ALL_ACCESS) '
               'map it.',
        'match': _existing_name_exec,
    },
]
