package config

import (
	"flag"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// LetsEncrypt is the ACME directory used when --acme-directory is not set.
const LetsEncrypt = "https://acme-v02.api.letsencrypt.org/directory"

// HTTPS holds the settings that let lanyard serve HTTPS by itself: a
// certificate from files, or one an ACME CA issues.
type HTTPS struct {
	TLSCert       string // PEM file: the leaf certificate, then intermediates
	TLSKey        string // PEM file: the private key (PKCS#8, SEC1 or PKCS#1)
	ACMEDomain    string // domain to get a certificate for by ACME
	ACMEDirectory string // ACME directory URL
	ACMEEmail     string // contact address given to the ACME CA
	ACMECAFile    string // PEM file of the CAs an internal ACME CA's HTTPS is checked against
	ListenHTTP    string // plain-HTTP address that redirects to HTTPS and answers HTTP-01
}

func registerHTTPS(fs *flag.FlagSet, c *HTTPS) {
	fs.StringVar(&c.TLSCert, "tls-cert", c.TLSCert, "PEM file of the certificate (leaf, then intermediates); serves HTTPS on --listen, reloaded when it changes")
	fs.StringVar(&c.TLSKey, "tls-key", c.TLSKey, "PEM file of the private key of --tls-cert (PKCS#8, SEC1 or PKCS#1)")
	fs.StringVar(&c.ACMEDomain, "acme-domain", c.ACMEDomain, "get and renew the HTTPS certificate for this domain by ACME")
	fs.StringVar(&c.ACMEDirectory, "acme-directory", c.ACMEDirectory, "directory URL of the ACME CA (default Let's Encrypt)")
	fs.StringVar(&c.ACMEEmail, "acme-email", c.ACMEEmail, "contact email address for the ACME account")
	fs.StringVar(&c.ACMECAFile, "acme-ca-file", c.ACMECAFile, "PEM file of the CAs of an internal ACME CA's HTTPS (default: the system's)")
	fs.StringVar(&c.ListenHTTP, "listen-http", c.ListenHTTP, "plain-HTTP address, HOST:PORT, that redirects to --public-url and answers ACME HTTP-01")
}

// TLS reports whether lanyard itself terminates TLS on --listen.
func (c HTTPS) TLS() bool { return c.TLSCert != "" || c.ACMEDomain != "" }

// ACMEDirectoryURL returns the ACME directory to use.
func (c HTTPS) ACMEDirectoryURL() string {
	if c.ACMEDirectory != "" {
		return c.ACMEDirectory
	}
	return LetsEncrypt
}

// defaultURL is the public URL when --public-url is not set and TLS is on:
// https://<listen>, or the ACME domain on the port of --listen.
func (c HTTPS) defaultURL(listen string) string {
	if c.ACMEDomain == "" {
		return "https://" + listen
	}
	if _, port, err := net.SplitHostPort(listen); err == nil && port != "443" {
		return "https://" + net.JoinHostPort(c.ACMEDomain, port)
	}
	return "https://" + c.ACMEDomain
}

func (c HTTPS) validate() error {
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return fmt.Errorf("--tls-cert and --tls-key go together")
	}
	if c.TLSCert != "" && c.ACMEDomain != "" {
		return fmt.Errorf("--acme-domain and --tls-cert exclude each other: choose one source of the certificate")
	}
	if c.ACMEDomain != "" && (strings.ContainsAny(c.ACMEDomain, "/:* ") || !strings.Contains(c.ACMEDomain, ".") && c.ACMEDomain != "localhost") {
		return fmt.Errorf("--acme-domain %q: want a DNS name such as id.example.com", c.ACMEDomain)
	}
	if c.ACMEDirectory != "" {
		if u, err := url.Parse(c.ACMEDirectory); err != nil || u.Scheme != "https" || u.Host == "" {
			return fmt.Errorf("--acme-directory %q: want an https:// URL", c.ACMEDirectory)
		}
	}
	if c.ListenHTTP != "" {
		if _, _, err := net.SplitHostPort(c.ListenHTTP); err != nil {
			return fmt.Errorf("--listen-http %q: want HOST:PORT", c.ListenHTTP)
		}
	}
	return nil
}
