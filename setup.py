"""Package layout that pyproject.toml cannot express: ship ``geodata/`` as ``planner/_geodata``.

Everything else about the distribution is declared in pyproject.toml. The repository keeps its
embedded data in the top-level ``geodata/`` folder; a wheel carries that folder's data files
(not ``geodata/build/``) as the subpackage ``planner._geodata``, where ``planner.geodata``
finds them with :mod:`importlib.resources`. pyproject.toml cannot combine ``packages.find``
with a package mapped from another folder, hence this file; the data files are listed under
``[tool.setuptools.package-data]`` in pyproject.toml.
"""

from setuptools import find_namespace_packages, setup

setup(
    packages=[
        *find_namespace_packages(include=["planner", "planner.*"], exclude=["*.__pycache__"]),
        "planner._geodata",
    ],
    package_dir={"planner._geodata": "geodata"},
)
