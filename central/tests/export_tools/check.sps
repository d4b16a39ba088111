* Run by central/tests/export_tools.rs in an export folder: the export's own
* syntax first, then what an SPSS user would look at.
INCLUDE FILE='export.sps'.
GET FILE='tools.sav'.
DISPLAY DICTIONARY.
DESCRIPTIVES score age weight mean flag_calc.
FREQUENCIES score /FORMAT=NOTABLE /STATISTICS=MEAN.
* Carriage returns spelled out: PSPP's CSV writer drops them.
STRING name_cr (A32767).
COMPUTE name_cr = REPLACE(name, X'0D', '<CR>').
SAVE TRANSLATE /OUTFILE='pspp-tools.csv' /TYPE=CSV /FIELDNAMES /REPLACE /KEEP=KEY name_cr.
INCLUDE FILE='export-bn.sps'.
GET FILE='tools-bn.sav'.
DISPLAY DICTIONARY.
