// Site-wide behaviour; no inline script anywhere (the CSP forbids it).
