"""Test-wide settings: nothing a test runs writes into the checkout."""

import tempfile

from hypothesis import settings
from hypothesis.configuration import set_hypothesis_home_dir

set_hypothesis_home_dir(tempfile.mkdtemp(prefix="sigma9-hypothesis-"))
settings.register_profile("sigma9", database=None, deadline=None)
settings.load_profile("sigma9")
