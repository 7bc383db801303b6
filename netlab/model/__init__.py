"""Values with no I/O: what TCP is, as data.

- :mod:`netlab.model.tcp_states`: TCP's states (numbered as the kernel numbers them) and
  RFC 9293's state diagram as a table of rules.
- :mod:`netlab.model.run`: which run of the experiments a page shows (when, on which kernel,
  with which netlab), as the docs build tells a page's kernel.
"""
