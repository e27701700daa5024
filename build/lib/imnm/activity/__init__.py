"""Disease activity and response: IMACS core set measures, MMT-8, HAQ-DI, muscle enzymes and the TIS.

Pure logic (no I/O, no clock). `imnm.activity.facts` registers the derived facts; the command
line lives in `imnm.cli.activity`; `imnm.activity.plot` draws the trend (matplotlib, lazily).
"""
