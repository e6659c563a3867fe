"""The legacy asirikuy-trader's files and rules, in pure Python (no Django): ``.set`` presets, ``atrader.config``,
the parameter names of the legacy strategies, their rates requirements and the files a legacy library writes.

The importer (trading/legacy) turns them into accounts and instances; the binding (framework/settings.py) builds
a foreign strategy's settings from the names here. Everything is written from the research notes, not copied.
"""
