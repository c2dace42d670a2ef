package sdk

// The offline fallback cache (protocol §8): the SikkerKey CLI's .skc format,
// byte-compatible with the CLI and the official SDKs, so a cache written by
// one is readable by all of them.
//
//	key       = HKDF-SHA256(ikm = Ed25519 seed, salt = vaultId, info = "sikkerkey-cache-v1", L = 32)
//	aad       = "sikkerkey-cache-v1" 0x00 vaultId 0x00 machineId 0x00 secretId 0x00 decimal(cachedAt)
//	ct        = AES-256-GCM(key, random 12-byte nonce, plaintext, aad)
//	plaintext = {"name"?, "value", "fieldNames"?}
//	file      = {"v":1,"nonce":b64(nonce),"ct":b64(ct),"cachedAt":unix seconds}

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/sikkerkey-go/sikkerkey/internal/wire"
)

// CacheOptions configures the offline fallback cache (see WithCache).
type CacheOptions struct {
	// MaxAge is the age beyond which a cached entry is no longer served.
	// 0 means no limit; a negative MaxAge is ErrConfiguration.
	MaxAge time.Duration
	// OnFallback, when set, is called each time a read is answered from the
	// cache, with the secret id and the time the entry was written. It runs
	// synchronously on the reading goroutine (the watch goroutine for a
	// Watch re-read) before the read returns; a panic in it is recovered and
	// logged.
	OnFallback func(secretID string, cachedAt time.Time)
	// Dir overrides the cache directory. The default is
	// Home()/vaults/<vaultId>/cache, shared with the SikkerKey CLI and the
	// official SDKs; an identity without a vault id (NewFromKey) needs Dir.
	Dir string
}

// WithCache turns on the encrypted offline fallback cache, which is off
// unless this option is given. Every successful GetSecret (and so GetFields,
// GetField and the Watch re-read) is written to Dir/<secretId>.skc, encrypted
// with a key derived from the machine's private key and bound to the vault,
// machine and secret ids; a write failure is logged and never fails the
// read. A read that fails because the API is unavailable (errors.Is(err,
// ErrUnavailable): a network failure or timeout, or HTTP 502, 503, 504,
// 520-527 or 530, after retries) is answered from the cache when an entry
// exists and is not older than MaxAge. Every other answer (401, 403, 404,
// 429, 500, ...) is returned as is, and a 403 or 404 also deletes the
// secret's entry, so revocation and deletion win. A read cancelled through
// its context is not answered from the cache; one that ran out of time is.
//
// A serve from the cache calls OnFallback and logs a warning naming the
// secret and the entry's age, never its value. An entry that is corrupt,
// tampered with or written by another identity is a miss with a warning; one
// in an unknown format version is a silent miss. ListSecrets, Export and
// ExportSecrets are never cached.
//
// The cache uses the identity's vault id: it salts the key and, without Dir,
// names the directory. Without Dir, a vault id that is empty (possible with
// NewFromKey) or not a safe directory name makes New, NewFromKey and
// BootstrapInMemory fail with ErrConfiguration rather than cache nowhere.
// Keys made by BootstrapInMemory live only as long as the process, so such a
// client can read back only what it wrote itself.
func WithCache(opts CacheOptions) Option {
	return func(o *options) { o.cache = &opts }
}

const (
	cacheVersion = 1
	cacheInfo    = "sikkerkey-cache-v1"
	cacheExt     = ".skc"
	// cacheTempPrefix starts the names of temporary files, ours (".skc-*")
	// and those of the other writers (KT ".skc-tmp-*", NET ".skc-<pid>-*").
	cacheTempPrefix = ".skc-"
	// maxCacheFileBytes bounds an entry read back. A value of up to
	// MaxResponseBytes fits even if every byte took a 6-byte JSON escape
	// before base64 (4/3) was applied.
	maxCacheFileBytes = MaxResponseBytes*8 + 1<<20
)

// cacheEnvelope is a .skc file.
type cacheEnvelope struct {
	V        int    `json:"v"`
	Nonce    string `json:"nonce"`
	CT       string `json:"ct"`
	CachedAt int64  `json:"cachedAt"`
}

// cachePlaintext is the decrypted content of an entry. Writers differ in
// key order, so it is always parsed, never compared. A by-id read writes
// only the value.
type cachePlaintext struct {
	Name       string  `json:"name,omitempty"`
	Value      *string `json:"value"`
	FieldNames *string `json:"fieldNames,omitempty"`
}

// cacheEntry is a decoded entry.
type cacheEntry struct {
	value    string
	cachedAt time.Time
}

// errCacheVersion marks an entry in a format this package does not know.
var errCacheVersion = errors.New("unknown cache format version")

// secretCache is one identity's cache directory.
type secretCache struct {
	dir        string
	vaultID    string
	machineID  string
	key        []byte
	maxAge     time.Duration
	onFallback func(string, time.Time)
}

// initCache sets up the cache when WithCache was given.
func (c *Client) initCache() error {
	o := c.opts.cache
	if o == nil {
		return nil
	}
	if o.MaxAge < 0 {
		return configError("CacheOptions.MaxAge must not be negative")
	}
	dir := o.Dir
	if dir == "" {
		var err error
		if dir, err = defaultCacheDir(c.id.VaultID); err != nil {
			return err
		}
	}
	key, err := deriveCacheKey(c.key.Seed(), c.id.VaultID)
	if err != nil {
		return fmt.Errorf("sikkerkey: deriving the cache key: %w", err)
	}
	c.cache = &secretCache{
		dir:        dir,
		vaultID:    c.id.VaultID,
		machineID:  c.id.MachineID,
		key:        key,
		maxAge:     o.MaxAge,
		onFallback: o.OnFallback,
	}
	return nil
}

// defaultCacheDir is Home()/vaults/<vaultID>/cache; the vault id must be a
// safe directory name.
func defaultCacheDir(vaultID string) (string, error) {
	if vaultID == "" {
		return "", configError("the offline cache needs the identity's vault id to find its directory; set Identity.VaultID or CacheOptions.Dir")
	}
	if !wire.ValidSecretID(vaultID) {
		return "", configError("vault id %q is not a safe directory name for the offline cache; set CacheOptions.Dir", truncate(vaultID, 64))
	}
	return filepath.Join(Home(), "vaults", vaultID, "cache"), nil
}

// deriveCacheKey is HKDF-SHA256(seed, salt = vaultID, info = cacheInfo), 32 bytes.
func deriveCacheKey(seed []byte, vaultID string) ([]byte, error) {
	return hkdf.Key(sha256.New, seed, []byte(vaultID), cacheInfo, 32)
}

// aad binds an entry to its vault, machine, secret and write time.
func (sc *secretCache) aad(secretID string, cachedAt int64) []byte {
	return []byte(cacheInfo + "\x00" + sc.vaultID + "\x00" + sc.machineID + "\x00" + secretID + "\x00" + strconv.FormatInt(cachedAt, 10))
}

func (sc *secretCache) gcm() (cipher.AEAD, error) {
	block, err := aes.NewCipher(sc.key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// encode seals a by-id read's value into a .skc file's bytes.
func (sc *secretCache) encode(secretID, value string, cachedAt int64) ([]byte, error) {
	pt, err := json.Marshal(cachePlaintext{Value: &value})
	if err != nil {
		return nil, err
	}
	aead, err := sc.gcm()
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return json.Marshal(cacheEnvelope{
		V:        cacheVersion,
		Nonce:    base64.StdEncoding.EncodeToString(nonce),
		CT:       base64.StdEncoding.EncodeToString(aead.Seal(nil, nonce, pt, sc.aad(secretID, cachedAt))),
		CachedAt: cachedAt,
	})
}

// open checks and decrypts a .skc file's bytes, returning the plaintext and
// cachedAt. An unknown version is errCacheVersion; anything else that is
// wrong (JSON, base64, nonce, authentication) is another error.
func (sc *secretCache) open(secretID string, data []byte) ([]byte, int64, error) {
	var env cacheEnvelope
	if err := json.Unmarshal(data, &env); err != nil {
		return nil, 0, errors.New("not a cache entry (invalid JSON)")
	}
	if env.V != cacheVersion {
		return nil, 0, fmt.Errorf("%w %d", errCacheVersion, env.V)
	}
	nonce, err := base64.StdEncoding.DecodeString(env.Nonce)
	if err != nil {
		return nil, 0, errors.New("invalid base64 in nonce")
	}
	ct, err := base64.StdEncoding.DecodeString(env.CT)
	if err != nil {
		return nil, 0, errors.New("invalid base64 in ct")
	}
	aead, err := sc.gcm()
	if err != nil {
		return nil, 0, err
	}
	if len(nonce) != aead.NonceSize() {
		return nil, 0, fmt.Errorf("nonce is %d bytes, not %d", len(nonce), aead.NonceSize())
	}
	pt, err := aead.Open(nil, nonce, ct, sc.aad(secretID, env.CachedAt))
	if err != nil {
		return nil, 0, errors.New("failed to decrypt (wrong identity or tampered)")
	}
	return pt, env.CachedAt, nil
}

// decode opens a .skc file's bytes and parses the plaintext.
func (sc *secretCache) decode(secretID string, data []byte) (cacheEntry, error) {
	pt, cachedAt, err := sc.open(secretID, data)
	if err != nil {
		return cacheEntry{}, err
	}
	var p cachePlaintext
	if err := json.Unmarshal(pt, &p); err != nil || p.Value == nil {
		return cacheEntry{}, errors.New("decrypted content is not an object with a string value")
	}
	return cacheEntry{value: *p.Value, cachedAt: time.Unix(cachedAt, 0)}, nil
}

func (sc *secretCache) path(secretID string) string {
	return filepath.Join(sc.dir, secretID+cacheExt)
}

// store writes the entry of a by-id read. An unsafe id is refused.
func (sc *secretCache) store(secretID, value string, now time.Time) error {
	if !wire.ValidSecretID(secretID) {
		return fmt.Errorf("refusing to cache unsafe secret id %q", truncate(secretID, 64))
	}
	data, err := sc.encode(secretID, value, now.Unix())
	if err != nil {
		return err
	}
	return writeFileAtomic(sc.dir, secretID+cacheExt, data)
}

// load returns the secret's entry, or false on a miss. A missing file, an
// unsafe id or an unknown version is a quiet miss; anything else that keeps
// the entry from being used is logged as a warning (never with the value).
func (sc *secretCache) load(ctx context.Context, log *slog.Logger, secretID string) (cacheEntry, bool) {
	if !wire.ValidSecretID(secretID) {
		return cacheEntry{}, false
	}
	data, err := readFileAtMost(sc.path(secretID), maxCacheFileBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return cacheEntry{}, false
	}
	var entry cacheEntry
	if err == nil {
		entry, err = sc.decode(secretID, data)
	}
	switch {
	case err == nil:
		return entry, true
	case errors.Is(err, errCacheVersion):
		log.LogAttrs(ctx, slog.LevelDebug, "sikkerkey: offline cache entry has an unknown format version; ignored",
			slog.String("secret", secretID), slog.String("error", err.Error()))
	default:
		log.LogAttrs(ctx, slog.LevelWarn, "sikkerkey: offline cache entry unusable; ignored",
			slog.String("secret", secretID), slog.String("path", sc.path(secretID)), slog.String("error", err.Error()))
	}
	return cacheEntry{}, false
}

// remove deletes the secret's entry, if any.
func (sc *secretCache) remove(secretID string) error {
	if !wire.ValidSecretID(secretID) {
		return nil
	}
	if err := os.Remove(sc.path(secretID)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// writeFileAtomic replaces dir/name with data through a temporary file in
// the same directory, so readers and concurrent writers (other clients, the
// CLI) only ever see a whole file. The file is 0600; dir is created 0700, and
// an existing dir open to group or others is narrowed to 0700.
func writeFileAtomic(dir, name string, data []byte) (err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	info, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if info.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return err
		}
	}
	tmp, err := os.CreateTemp(dir, cacheTempPrefix+"*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	// Flushed before the rename: the cache matters most after an outage,
	// which may also have taken the machine down.
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(dir, name))
}

// CacheEnabled reports whether the client has the offline cache (WithCache).
// Only GetSecret (and what reads through it) fills and consults the cache,
// so callers that batch reads with ExportSecrets can prefer single reads
// when it is on.
func (c *Client) CacheEnabled() bool { return c.cache != nil }

// throughCache applies the cache, when enabled, to the outcome of a live
// read of secret id (WithCache documents the rules).
func (c *Client) throughCache(ctx context.Context, id, value string, err error) (string, error) {
	sc := c.cache
	if sc == nil {
		return value, err
	}
	switch {
	case err == nil:
		if werr := sc.store(id, value, c.now()); werr != nil {
			c.log.LogAttrs(ctx, slog.LevelWarn, "sikkerkey: could not write the offline cache entry; the read itself succeeded",
				slog.String("secret", id), slog.String("error", werr.Error()))
		}
		return value, nil
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrAccessDenied):
		if rerr := sc.remove(id); rerr != nil {
			c.log.LogAttrs(ctx, slog.LevelWarn, "sikkerkey: could not delete the offline cache entry of a deleted or denied secret",
				slog.String("secret", id), slog.String("error", rerr.Error()))
		}
		return "", err
	case !errors.Is(err, ErrUnavailable), errors.Is(err, context.Canceled):
		return "", err
	}
	entry, ok := sc.load(ctx, c.log, id)
	if !ok {
		return "", err
	}
	age := c.now().Sub(entry.cachedAt)
	tooOld := sc.maxAge > 0 && age > sc.maxAge
	age = age.Round(time.Second) // for the log
	if tooOld {
		c.log.LogAttrs(ctx, slog.LevelWarn, "sikkerkey: SikkerKey API unavailable and the cached entry is older than MaxAge; not served",
			slog.String("secret", id), slog.Duration("age", age), slog.Duration("maxAge", sc.maxAge), slog.String("error", err.Error()))
		return "", err
	}
	c.log.LogAttrs(ctx, slog.LevelWarn, "sikkerkey: SikkerKey API unavailable; serving the secret from the offline cache",
		slog.String("secret", id), slog.Duration("age", age), slog.Time("cachedAt", entry.cachedAt), slog.String("error", err.Error()))
	c.notifyFallback(ctx, id, entry.cachedAt)
	return entry.value, nil
}

// notifyFallback calls OnFallback, recovering a panic so that it cannot take
// down the watch goroutine.
func (c *Client) notifyFallback(ctx context.Context, id string, cachedAt time.Time) {
	fn := c.cache.onFallback
	if fn == nil {
		return
	}
	defer func() {
		if r := recover(); r != nil {
			c.log.LogAttrs(ctx, slog.LevelError, "sikkerkey: CacheOptions.OnFallback panicked; the cached value is still returned",
				slog.String("secret", id), slog.String("panic", fmt.Sprintf("%T", r)))
		}
	}()
	fn(id, cachedAt)
}

// ClearCache deletes the offline cache entries (*.skc, and temporary files
// left by interrupted writes) from this client's cache directory: Dir when
// set, else Home()/vaults/<vaultId>/cache. It works without WithCache too,
// to wipe what an earlier run or the CLI left behind; the directory is shared
// with the CLI and the other SDKs, so their entries for this vault go as
// well. A missing directory is not an error. Other files are left alone.
func (c *Client) ClearCache() error {
	var dir string
	if c.cache != nil {
		dir = c.cache.dir
	} else {
		var err error
		if dir, err = defaultCacheDir(c.id.VaultID); err != nil {
			return err
		}
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("sikkerkey: clearing the offline cache: %w", err)
	}
	var errs []error
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || !(strings.HasSuffix(name, cacheExt) || strings.HasPrefix(name, cacheTempPrefix)) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("sikkerkey: clearing the offline cache: %w", errors.Join(errs...))
	}
	return nil
}
