"""Stand-in for the get-pip.py that ansible-test downloads from a host these machines cannot reach.

ansible-test runs ``python get_pip_<ver>.py <pip options> pip==<ver> ...`` inside a new venv; this
bootstraps pip from the interpreter's bundled ensurepip and then lets pip install the same pins
from the package index.
"""
import subprocess
import sys

subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "pip", "install"] + args)
