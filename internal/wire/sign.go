package wire

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strconv"
)

// Header names of a signed request (§3).
const (
	HeaderMachineID = "X-Machine-Id"
	HeaderTimestamp = "X-Timestamp"
	HeaderNonce     = "X-Nonce"
	HeaderSignature = "X-Signature"
)

// NonceSize is the number of random bytes in a nonce; its padded standard
// base64 form is 24 characters.
const NonceSize = 16

// BodyHash returns the lower-case hex SHA-256 of the exact body bytes. A nil
// or empty body hashes to e3b0c442...7852b855.
func BodyHash(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// Payload returns the signed payload METHOD:PATH:TIMESTAMP:NONCE:BODYHASH.
// path is the request path only (no scheme, host or query string).
func Payload(method, path string, timestamp int64, nonce string, body []byte) []byte {
	sum := sha256.Sum256(body)
	buf := make([]byte, 0, len(method)+len(path)+len(nonce)+20+hex.EncodedLen(len(sum))+4)
	buf = append(buf, method...)
	buf = append(buf, ':')
	buf = append(buf, path...)
	buf = append(buf, ':')
	buf = strconv.AppendInt(buf, timestamp, 10)
	buf = append(buf, ':')
	buf = append(buf, nonce...)
	buf = append(buf, ':')
	buf = hex.AppendEncode(buf, sum[:])
	return buf
}

// Sign returns the standard base64 Ed25519 signature (88 characters) of the
// payload for the given request.
func Sign(key ed25519.PrivateKey, method, path string, timestamp int64, nonce string, body []byte) string {
	return base64.StdEncoding.EncodeToString(ed25519.Sign(key, Payload(method, path, timestamp, nonce, body)))
}

// Verify reports whether signature (standard base64) is a valid signature by
// pub of the payload for the given request.
func Verify(pub ed25519.PublicKey, method, path string, timestamp int64, nonce string, body []byte, signature string) bool {
	sig, err := base64.StdEncoding.DecodeString(signature)
	if err != nil || len(sig) != ed25519.SignatureSize || len(pub) != ed25519.PublicKeySize {
		return false
	}
	return ed25519.Verify(pub, Payload(method, path, timestamp, nonce, body), sig)
}

// NewNonce returns a fresh nonce: 16 random bytes in padded standard base64.
func NewNonce() string {
	var b [NonceSize]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return base64.StdEncoding.EncodeToString(b[:])
}
