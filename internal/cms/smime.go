package cms

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io"
	"mime"
	"net/textproto"
	"strings"

	"github.com/lanyard-id/lanyard"
)

// unwrap returns the DER (or BER) encoding inside a message given as DER,
// PEM or S/MIME. A bare base64 body, as some tools write it, is accepted
// too.
func unwrap(data []byte) ([]byte, error) {
	trimmed := bytes.TrimLeft(data, " \t\r\n")
	switch {
	case len(trimmed) == 0:
		return nil, lanyard.Errorf(lanyard.EINVALID, "The message is empty.")
	case data[0] == 0x30:
		return data, nil
	case bytes.HasPrefix(trimmed, []byte("-----BEGIN ")):
		return fromPEM(trimmed)
	}
	if der, err := fromSMIME(data); err == nil {
		return der, nil
	} else if lanyard.ErrorCode(err) != lanyard.EINTERNAL {
		return nil, err
	}
	if der, err := decodeBase64(trimmed); err == nil && len(der) > 0 && der[0] == 0x30 {
		return der, nil
	}
	return nil, lanyard.Errorf(lanyard.EINVALID, "The message is not a CMS message in DER, PEM or S/MIME form.")
}

// fromPEM decodes the first PEM block, which must be a CMS or PKCS #7 one.
func fromPEM(data []byte) ([]byte, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, lanyard.Errorf(lanyard.EINVALID, "The message is not valid PEM.")
	}
	switch block.Type {
	case "CMS", "PKCS7", "PKCS #7 SIGNED DATA":
		return block.Bytes, nil
	}
	return nil, lanyard.Errorf(lanyard.EINVALID, "The PEM block %q is not a CMS message.", block.Type)
}

// fromSMIME reads an S/MIME entity: MIME headers, a blank line and a body
// of type application/pkcs7-mime (or the older x-pkcs7-mime), usually in
// base64. Input without MIME headers gives a plain (internal) error so that
// the caller may try other forms; a MIME entity of the wrong kind gives a
// user-facing one.
func fromSMIME(data []byte) ([]byte, error) {
	r := textproto.NewReader(bufio.NewReader(bytes.NewReader(data)))
	header, err := r.ReadMIMEHeader()
	if err != nil || header.Get("Content-Type") == "" {
		return nil, errNotMIME
	}
	mediaType, params, err := mime.ParseMediaType(header.Get("Content-Type"))
	if err != nil {
		return nil, lanyard.Errorf(lanyard.EINVALID, "The S/MIME message has an invalid Content-Type.")
	}
	if mediaType != "application/pkcs7-mime" && mediaType != "application/x-pkcs7-mime" {
		return nil, lanyard.Errorf(lanyard.EINVALID, "The S/MIME message is of type %s, not an encrypted message.", mediaType)
	}
	if t := strings.ToLower(params["smime-type"]); t != "" && t != "enveloped-data" && t != "authenveloped-data" {
		return nil, lanyard.Errorf(lanyard.EINVALID, "The S/MIME message is %s, not an encrypted message.", t)
	}
	body, err := io.ReadAll(r.R)
	if err != nil {
		return nil, errNotMIME
	}
	switch enc := strings.ToLower(strings.TrimSpace(header.Get("Content-Transfer-Encoding"))); enc {
	case "base64":
		der, err := decodeBase64(body)
		if err != nil {
			return nil, lanyard.Errorf(lanyard.EINVALID, "The S/MIME message body is not valid base64.")
		}
		return der, nil
	case "", "binary", "7bit", "8bit":
		return body, nil
	default:
		return nil, lanyard.Errorf(lanyard.EINVALID, "The S/MIME transfer encoding %q is not supported.", enc)
	}
}

// decodeBase64 decodes standard base64 that may be broken into lines.
func decodeBase64(b []byte) ([]byte, error) {
	clean := bytes.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, b)
	return base64.StdEncoding.DecodeString(string(clean))
}

// errNotMIME marks input that has no MIME headers at all.
var errNotMIME = errors.New("not a MIME entity")
