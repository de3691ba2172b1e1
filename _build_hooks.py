"""setuptools commands that put autotrack_startup.pth into site-packages (wheel and editable).

The .pth makes `AUTOTRACK=1 python train.py` work with no code change. A wheel gets it through
build_py; setuptools' editable install builds its own wheel and ignores build_py's extra files,
so the editable_wheel command adds it to that wheel's root too.
"""

from pathlib import Path

from setuptools.command.build_py import build_py
from setuptools.command.editable_wheel import editable_wheel

PTH = "autotrack_startup.pth"
SOURCE = Path(__file__).parent / PTH


class build_py_with_pth(build_py):
    def run(self):
        super().run()
        target = Path(self.build_lib) / PTH
        target.write_text(SOURCE.read_text())

    def get_outputs(self, include_bytecode=True):
        return [*super().get_outputs(include_bytecode), str(Path(self.build_lib) / PTH)]


class editable_wheel_with_pth(editable_wheel):
    def _install_namespaces(self, installation_dir, pth_prefix):
        # Everything in installation_dir ends up at the root of the editable wheel.
        super()._install_namespaces(installation_dir, pth_prefix)
        (Path(installation_dir) / PTH).write_text(SOURCE.read_text())
