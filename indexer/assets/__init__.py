"""Asset processing: safe intake of untrusted files, metadata, renditions and image facts.

Pure pieces (`colors`, `background`, `phash`, `links`) take arrays or plain values; the
I/O sits in `intake`, `safe_image`, `metadata`, `renditions` and `pipeline`.
"""
