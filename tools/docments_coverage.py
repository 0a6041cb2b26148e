"""Which public functions, constructors and methods of emssl lack a description (docment) for a parameter.

    python tools/docments_coverage.py          # a line per module
    python tools/docments_coverage.py --check  # also exit 1 if anything lacks one (CI)

A parameter is described when `fastcore.docments` finds a comment for it, which is what nbdev's `show_doc`
renders. Covered: every name in a module's `__all__` defined there that is a function with parameters, each such
class's own `__init__`, and its public methods with parameters besides self.
"""
import dataclasses, importlib, inspect, pkgutil, sys, warnings
from fastcore.docments import docments

def coverage() -> dict:
    import emssl
    res = {}
    for m in pkgutil.iter_modules(emssl.__path__):
        if m.name.startswith('_'): continue
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            mod = importlib.import_module(f'emssl.{m.name}')
        items = []
        for n in getattr(mod, '__all__', []):
            o = getattr(mod, n, None)
            if o is None or getattr(o, '__module__', None) != mod.__name__: continue
            fs = [(n, o)] if inspect.isfunction(o) else []
            if inspect.isclass(o):
                fs = ([(n, o.__init__)] if '__init__' in o.__dict__ else []) + \
                     [(f'{n}.{k}', v) for k, v in o.__dict__.items() if inspect.isfunction(v) and not k.startswith('_')]
            for name, f in fs:
                if f is getattr(o, '__init__', None) and dataclasses.is_dataclass(o): f = o   # its fields' comments
                sig = inspect.signature(f.__init__ if inspect.isclass(f) else f)
                ps = [p.name for p in sig.parameters.values()
                      if p.name not in ('self', 'cls') and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
                if not ps: continue
                try: d = docments(f)
                except Exception: d = {}
                missing = [p for p in ps if not d.get(p)]
                items.append((name, missing))
        res[m.name] = items
    return res

if __name__ == '__main__':
    res = coverage()
    total = sum(len(v) for v in res.values())
    bad = {k: [(n, ms) for n, ms in v if ms] for k, v in res.items()}
    for k, v in res.items():
        print(f"{k}: {len(v) - len(bad[k])} of {len(v)} described" + ("" if not bad[k] else ": " + ", ".join(f"{n} ({', '.join(ms)})" for n, ms in bad[k])))
    n_bad = sum(len(v) for v in bad.values())
    print(f"{total - n_bad} of {total} public functions, constructors and methods describe every parameter")
    if '--check' in sys.argv and n_bad: sys.exit(1)
