"""SOAP envelopes: wrapping a body, telling a whole envelope from a body, reading the answer.

All XML is parsed with a parser that resolves no entities and reads nothing from the network,
so neither a caller's body nor a remote answer can make the library fetch or expand anything.
"""

from __future__ import annotations

import codecs
import copy
from dataclasses import dataclass

from lxml import etree

from zato_outconn.conn.body import BodyError

SOAP11 = 'http://schemas.xmlsoap.org/soap/envelope/'
SOAP12 = 'http://www.w3.org/2003/05/soap-envelope'
NAMESPACES = {'1.1': SOAP11, '1.2': SOAP12}
VERSIONS = {SOAP11: '1.1', SOAP12: '1.2'}

SOAP11_CONTENT_TYPE = 'text/xml; charset=utf-8'
SOAP12_CONTENT_TYPE = 'application/soap+xml; charset=utf-8'


def safe_parser(encoding: str | None = None) -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=False,
                           huge_tree=False, encoding=encoding)


class MalformedXML(BodyError):
    """The body is not well-formed XML; the message says where."""


def parse_body(body: str | bytes | etree._Element) -> list[etree._Element]:
    """The top-level elements of a body a caller passed (one or several, or a whole envelope)."""
    if isinstance(body, etree._Element):
        # A copy: the envelope and its security header must not end up in the caller's own tree.
        return [copy.deepcopy(body)]
    if not isinstance(body, str | bytes):
        raise BodyError(f'a SOAP body must be XML text or bytes, or an lxml element; '
                        f'not {type(body).__name__}')
    data = body.encode('utf-8') if isinstance(body, str) else body
    stripped = data.strip()
    if not stripped:
        return []
    if stripped.startswith((b'<?xml', codecs.BOM_UTF8, codecs.BOM_UTF16_BE, codecs.BOM_UTF16_LE)):
        # A document: one root element. Bytes are read in the encoding they declare; text was
        # encoded as UTF-8 just above, so a declaration of another encoding must not apply to it.
        try:
            return [etree.fromstring(stripped, safe_parser('utf-8' if isinstance(body, str) else None))]
        except etree.XMLSyntaxError as error:
            raise MalformedXML(f'the body is not well-formed XML: {error}') from None
    # A body may hold several sibling elements; a wrapper makes it one document to parse.
    try:
        wrapper = etree.fromstring(b'<wrapper>' + stripped + b'</wrapper>', safe_parser('utf-8'))
    except etree.XMLSyntaxError as error:
        raise MalformedXML(f'the body is not well-formed XML: {error}') from None
    if wrapper.text and wrapper.text.strip():
        raise MalformedXML('the body must be XML elements, not text')
    return list(wrapper)


def is_envelope(element: etree._Element) -> bool:
    return etree.QName(element).localname == 'Envelope' and etree.QName(element).namespace in VERSIONS


def build_envelope(elements: list[etree._Element], version: str) -> etree._Element:
    """The elements inside a new envelope's Body, or the element itself if it already is an envelope."""
    # Comments and processing instructions around a whole envelope do not make it a body.
    tagged = [element for element in elements if isinstance(element.tag, str)]
    if len(tagged) == 1 and is_envelope(tagged[0]):
        return tagged[0]
    namespace = NAMESPACES[version]
    envelope = etree.Element(f'{{{namespace}}}Envelope', nsmap={'soap': namespace})
    body = etree.SubElement(envelope, f'{{{namespace}}}Body')
    body.extend(elements)
    return envelope


def header_of(envelope: etree._Element) -> etree._Element:
    """The envelope's Header, created as its first child if it has none."""
    namespace = etree.QName(envelope).namespace
    header = envelope.find(f'{{{namespace}}}Header')
    if header is None:
        header = etree.Element(f'{{{namespace}}}Header')
        envelope.insert(0, header)
    return header


def serialise(envelope: etree._Element) -> bytes:
    return etree.tostring(envelope, xml_declaration=True, encoding='utf-8')


@dataclass(frozen=True)
class Fault:
    """A SOAP 1.1 or 1.2 Fault, in terms common to both."""

    version: str
    code: str
    subcode: str | None
    reason: str
    actor: str | None
    detail: etree._Element | None


@dataclass(frozen=True)
class Answer:
    """What the remote end answered: the first element of the Body, or a Fault."""

    version: str
    body: etree._Element | None
    fault: Fault | None


class NotSOAP(ValueError):
    """The answer is not a SOAP envelope."""


def read_answer(content: bytes, charset: str | None) -> Answer:
    """Parse an answer from its bytes; a charset from Content-Type wins over the XML declaration."""
    try:
        root = etree.fromstring(content, safe_parser(charset))
    except (etree.XMLSyntaxError, LookupError) as error:
        raise NotSOAP(f'the answer is not XML ({error})') from None
    if not is_envelope(root):
        raise NotSOAP(f'the answer is XML but not a SOAP envelope (its root is {root.tag})')
    namespace = etree.QName(root).namespace
    version = VERSIONS[namespace]
    body = root.find(f'{{{namespace}}}Body')
    if body is None:
        raise NotSOAP('the answer is a SOAP envelope without a Body')
    first = next(iter(body.iterchildren(tag=etree.Element)), None)
    if first is not None and first.tag == f'{{{namespace}}}Fault':
        return Answer(version, None, _fault(first, version, namespace))
    return Answer(version, first, None)


def _fault(element: etree._Element, version: str, namespace: str) -> Fault:
    if version == '1.1':
        # SOAP 1.1 faults keep their children unqualified.
        return Fault(version, _text(element, 'faultcode') or '', None, _text(element, 'faultstring') or '',
                     _text(element, 'faultactor'), element.find('detail'))
    code = element.find(f'{{{namespace}}}Code')
    subcode = code.find(f'{{{namespace}}}Subcode') if code is not None else None
    reason = element.find(f'{{{namespace}}}Reason')
    return Fault(
        version,
        _text(code, f'{{{namespace}}}Value') or '' if code is not None else '',
        _text(subcode, f'{{{namespace}}}Value') if subcode is not None else None,
        _text(reason, f'{{{namespace}}}Text') or '' if reason is not None else '',
        _text(element, f'{{{namespace}}}Role'),
        element.find(f'{{{namespace}}}Detail'))


def _text(parent: etree._Element, tag: str) -> str | None:
    found = parent.find(tag)
    return found.text.strip() if found is not None and found.text else None
