"""gunicorn settings read automatically when gunicorn starts in this folder (else pass ``-c``).

The access log (off unless ``--access-logfile`` is given) is gunicorn's "combined" format with
the request line's path instead of the raw URI and without the referer: both carry query
strings, and a search page's query is what a person looked for (``/you/search/?q=...``), which
must not outlive an erasure in a log file.
"""

access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s"'
