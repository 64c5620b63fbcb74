"""The network side of a connection: its session, TLS material, the one send and its error mapping.

``send.send`` is the only function that hands a request to the network, and ``errors.map_error``
the only place where requests, urllib3, ssl and zeep exceptions become the library's own.
"""
