"""Keeps pytest out of the benchmarks when it is pointed at this folder.

The scripts are not tests, and their parts (``_harness.py`` ...) import each other
by the script's folder on ``sys.path``, which pytest's importlib mode does not
add: collecting them would only fail. The default run (``testpaths``) never
comes here.
"""

collect_ignore_glob = ["*.py"]
