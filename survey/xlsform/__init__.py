"""XLSForm spreadsheets in and out.

Reading follows the XLSForm standard as pyxform implements it (its aliases for question types and
column headers, its ``bind::``/``body::`` namespaced headers, BCP 47 language tags), with Candid's
documented extensions:

- a group nested in a page with appearance ``table-list`` is a **matrix** (its items share one
  choice list); with appearance ``list_experiment`` it is a **list experiment** whose rows are
  notes with ``bind::candid:role`` ``control`` or ``sensitive``;
- ``select_one`` with appearance ``likert`` is a **Likert item**; ``text`` with ``multiline`` is
  **long text**; ``range`` is a **slider**;
- ``bind::candid:reverse`` (yes) shows a scale reversed to a random half; ``bind::candid:shuffle``
  on a page lets it change places with the other shuffled pages; ``randomize`` (ODK's
  ``parameters`` ``randomize=true``, or ``bind::candid:randomize`` on a page or matrix) randomises
  option or item order; ``bind::candid:source`` names the instrument an item follows.

Candid writes its extensions as bind attributes in its own namespace, which pyxform passes through
and ODK Validate accepts, so that an exported form converts with pyxform and imports back equal.
Modules: :mod:`.headers` (sheets, column headers, languages), :mod:`.reader`, :mod:`.writer`,
:mod:`.limits` (upload limits checked before parsing), :mod:`.messages`.
"""

from .reader import read_xlsform
from .writer import write_xlsform

__all__ = ["read_xlsform", "write_xlsform"]
