"""SOAP: envelopes, the SOAP connection and its WSDL client (lxml and zeep, loaded when used)."""
