package cms

import "errors"

// maxDepth bounds the nesting of ASN.1 elements accepted in a message. CMS
// messages nest a dozen levels deep; the bound keeps hostile input from
// exhausting the stack.
const maxDepth = 64

var errMalformed = errors.New("malformed ASN.1")

// normalizeBER rewrites a BER encoding into the DER subset that
// encoding/asn1 reads: every length definite and minimal, and constructed
// OCTET STRINGs joined into primitive ones. OpenSSL's -stream output and
// many mail clients write indefinite lengths and chunked octet strings.
// Bytes after the first element are an error.
func normalizeBER(b []byte) ([]byte, error) {
	out, rest, err := normalizeElement(b, 0)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, errors.New("trailing data after the message")
	}
	return out, nil
}

// normalizeElement reads one element from b and returns its normalized
// encoding and the bytes after it.
func normalizeElement(b []byte, depth int) (out, rest []byte, err error) {
	if depth > maxDepth {
		return nil, nil, errors.New("ASN.1 nested too deeply")
	}
	idLen, constructed, err := identifierLength(b)
	if err != nil {
		return nil, nil, err
	}
	id := b[:idLen]
	length, lenLen, err := readLength(b[idLen:])
	if err != nil {
		return nil, nil, err
	}
	body := b[idLen+lenLen:]
	if !constructed {
		if length < 0 || length > len(body) {
			return nil, nil, errMalformed
		}
		return encodeElement(id, body[:length]), body[length:], nil
	}
	var children [][]byte
	if length >= 0 {
		if length > len(body) {
			return nil, nil, errMalformed
		}
		rest = body[length:]
		for content := body[:length]; len(content) > 0; {
			var child []byte
			child, content, err = normalizeElement(content, depth+1)
			if err != nil {
				return nil, nil, err
			}
			children = append(children, child)
		}
	} else {
		for {
			if len(body) >= 2 && body[0] == 0 && body[1] == 0 {
				rest = body[2:]
				break
			}
			if len(body) == 0 {
				return nil, nil, errMalformed
			}
			var child []byte
			child, body, err = normalizeElement(body, depth+1)
			if err != nil {
				return nil, nil, err
			}
			children = append(children, child)
		}
	}
	if len(id) == 1 && id[0] == 0x24 { // constructed OCTET STRING
		joined, err := joinOctets(children)
		if err != nil {
			return nil, nil, err
		}
		return encodeElement([]byte{0x04}, joined), rest, nil
	}
	var content []byte
	for _, c := range children {
		content = append(content, c...)
	}
	return encodeElement(id, content), rest, nil
}

// joinOctets concatenates the contents of normalized primitive OCTET
// STRING elements, the segments of a constructed one.
func joinOctets(segments [][]byte) ([]byte, error) {
	var joined []byte
	for _, s := range segments {
		if s[0] != 0x04 {
			return nil, errMalformed
		}
		_, lenLen, err := readLength(s[1:])
		if err != nil {
			return nil, err
		}
		joined = append(joined, s[1+lenLen:]...)
	}
	return joined, nil
}

// identifierLength returns the length of the identifier octets at the start
// of b and whether they mark a constructed element.
func identifierLength(b []byte) (n int, constructed bool, err error) {
	if len(b) == 0 {
		return 0, false, errMalformed
	}
	constructed = b[0]&0x20 != 0
	if b[0]&0x1f != 0x1f {
		return 1, constructed, nil
	}
	for n = 1; n < len(b) && n <= 4; n++ {
		if b[n]&0x80 == 0 {
			return n + 1, constructed, nil
		}
	}
	return 0, false, errMalformed
}

// readLength decodes the length octets at the start of b. An indefinite
// length is returned as -1.
func readLength(b []byte) (length, n int, err error) {
	if len(b) == 0 {
		return 0, 0, errMalformed
	}
	if b[0] < 0x80 {
		return int(b[0]), 1, nil
	}
	if b[0] == 0x80 {
		return -1, 1, nil
	}
	count := int(b[0] & 0x7f)
	if count > 4 || len(b) < 1+count {
		return 0, 0, errMalformed
	}
	for _, c := range b[1 : 1+count] {
		length = length<<8 | int(c)
	}
	if length < 0 || length > 1<<30 {
		return 0, 0, errMalformed
	}
	return length, 1 + count, nil
}

// encodeElement writes an element with the given identifier octets and a
// minimal definite length.
func encodeElement(id, content []byte) []byte {
	out := make([]byte, 0, len(id)+5+len(content))
	out = append(out, id...)
	n := len(content)
	switch {
	case n < 0x80:
		out = append(out, byte(n))
	case n < 0x100:
		out = append(out, 0x81, byte(n))
	case n < 0x10000:
		out = append(out, 0x82, byte(n>>8), byte(n))
	case n < 0x1000000:
		out = append(out, 0x83, byte(n>>16), byte(n>>8), byte(n))
	default:
		out = append(out, 0x84, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(out, content...)
}
