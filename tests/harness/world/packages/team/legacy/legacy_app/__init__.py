"""An old-style package: the template has inline code, the system description names this folder's parent."""
