"""Builds the sdist and the wheel, and checks them: `make dist`.

    python tests/scripts/check_dist.py OUTDIR

Fails (exit 1) when the build prints a warning, when ``twine check --strict`` fails,
when the wheel holds anything but the ``kerastools`` package and its metadata, when the
sdist holds tests (they are left out deliberately: README, "Testing"), or when the
metadata lacks the PEP 639 licence expression or the optional extras.
"""

import email.parser
import os
import subprocess
import sys
import tarfile
import zipfile

EXTRAS = {"tensorflow", "jax", "torch", "tuner", "notebooks", "test", "all"}


def fail(message):
    print(f"check_dist: {message}", file=sys.stderr)
    sys.exit(1)


def main(outdir):
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    build = subprocess.run([sys.executable, "-m", "build", "--outdir", outdir, root],
                           capture_output=True, text=True)
    log = build.stdout + build.stderr
    if build.returncode != 0:
        fail(f"python -m build failed:\n{log[-4000:]}")
    warnings = [line for line in log.splitlines() if "warning" in line.lower()]
    if warnings:
        fail("python -m build warned:\n" + "\n".join(warnings))
    files = sorted(os.listdir(outdir))
    wheels = [f for f in files if f.endswith(".whl")]
    sdists = [f for f in files if f.endswith(".tar.gz")]
    if len(wheels) != 1 or len(sdists) != 1:
        fail(f"expected one wheel and one sdist, found {files}")
    twine = subprocess.run([sys.executable, "-m", "twine", "check", "--strict",
                            *[os.path.join(outdir, f) for f in files]],
                           capture_output=True, text=True)
    if twine.returncode != 0:
        fail(f"twine check failed:\n{twine.stdout}{twine.stderr}")
    with zipfile.ZipFile(os.path.join(outdir, wheels[0])) as whl:
        names = whl.namelist()
        metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
        meta = email.parser.Parser().parsestr(whl.read(metadata).decode())
    stray = [n for n in names if not n.startswith("kerastools/") and ".dist-info/" not in n]
    if stray:
        fail(f"the wheel holds more than the package: {stray}")
    if meta.get("License-Expression") != "MIT":
        fail(f"License-Expression is {meta.get('License-Expression')!r}, not 'MIT'")
    if any(c.startswith("License ::") for c in meta.get_all("Classifier") or []):
        fail("a licence classifier is left beside the licence expression")
    missing = EXTRAS - set(meta.get_all("Provides-Extra") or [])
    if missing:
        fail(f"extras missing from the metadata: {sorted(missing)}")
    requires = [r for r in meta.get_all("Requires-Dist") or [] if "extra ==" not in r]
    heavy = [r for r in requires if r.split(">")[0].split("=")[0].strip() in
             {"tensorflow", "jax", "torch", "keras-tuner", "tensorboard", "scipy"}]
    if heavy:
        fail(f"install_requires names what only some users need: {heavy}")
    with tarfile.open(os.path.join(outdir, sdists[0])) as sdist:
        members = sdist.getnames()
    if any("/tests/" in m or m.endswith("/tests") for m in members):
        fail("the sdist holds tests/, which is left out deliberately")
    if not any(m.endswith("/kerastools/__init__.py") for m in members):
        fail("the sdist lacks the package")
    print(f"check_dist: {wheels[0]} ({len(names)} files) and {sdists[0]} ({len(members)} "
          f"files) built without warnings; twine check passed; dependencies {requires}")


if __name__ == "__main__":
    main(sys.argv[1])
