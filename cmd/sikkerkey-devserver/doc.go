// Command sikkerkey-devserver runs a local SikkerKey-compatible server, for
// developing a service without a SikkerKey account.
//
// It serves the secrets of a JSON file on a loopback port and writes a
// machine identity for them, so that sikkerkey.Load, sdk.New("") and the
// official SikkerKey CLI and SDKs work against it unchanged. Editing the
// file rotates the secrets.
//
// # Usage
//
//	sikkerkey-devserver [-secrets secrets.json] [-addr 127.0.0.1:8787]
//	                    [-home DIR] [-vault vault_dev] [-project ID]
//	                    [-allow-remote]
//
// For example:
//
//	echo '{"sk_api_key": "dev-key", "sk_db_prod": {"host": "localhost", "password": "dev"}}' > secrets.json
//	go run ./cmd/sikkerkey-devserver -secrets secrets.json -home /tmp/skdev
//
// and, in another terminal:
//
//	SIKKERKEY_HOME=/tmp/skdev go run ./your/service
//	SIKKERKEY_HOME=/tmp/skdev sikkerkey get sk_api_key
//
// # The secrets file
//
// The file is the one source.File reads: a JSON object mapping secret ids
// (A-Z, a-z, 0-9, '_' and '-') to values. A string is the secret's value;
// an object is a structured secret whose members are its fields (numbers
// and booleans become their JSON text, null becomes "", nested objects and
// arrays their compact JSON text); a number, boolean or array is served as
// its JSON text; null means the secret does not exist. Every secret is
// named after its id and belongs to the project given by -project (none by
// default).
//
// The file is watched (its directory, through fsnotify, so atomic saves
// are seen) and every change is applied once a burst of file system events
// has been quiet for 100 ms: a changed value is a rotation (a new version,
// which polls and watchers report as "changed"), a new id is a new secret,
// and a removed id is a deleted secret. A file that cannot be read or
// parsed, or that names an invalid secret id, is logged as an error (never
// with its content) and the previous secrets stay in place.
//
// # The identity
//
// The machine identity is written like the bootstrap script writes it,
// to <home>/vaults/<vault>/identity.json and private.pem (files 0600,
// directories 0700), with apiUrl http://localhost:<port>. The home is -home,
// else $SIKKERKEY_HOME, else ~/.sikkerkey; the vault is -vault (default
// vault_dev; "vault_" is added when missing). An identity left there by an
// earlier run is reused, with the same machine id and key, so clients and
// scripts keep working across restarts; only its apiUrl changes when the
// port does. The server refuses to start, and touches nothing, when the
// vault directory holds an identity whose apiUrl is not a loopback URL (a
// real SikkerKey machine), an identity file it cannot parse, or a
// private.pem without identity.json.
//
// When the home holds other vaults, clients that auto-detect the identity
// need to be told which one to use: sdk.New("vault_dev"),
// sikkerkey.WithVault("vault_dev"), SIKKERKEY_IDENTITY=<identity path>, or
// SIKKERKEY_VAULT=vault_dev for the CLI.
//
// # Network
//
// The server listens on 127.0.0.1:8787 by default, and also on [::1] at the
// same port when it can, so http://localhost:<port> works however localhost
// resolves. Port 0 picks a free port. An -addr whose host is not a loopback
// address (localhost, 127.0.0.0/8, ::1) is refused unless -allow-remote is
// given: the server speaks plain HTTP, and clients accept plain HTTP only
// for localhost anyway.
//
// # Logs and shutdown
//
// The first line on standard output is
//
//	sikkerkey-devserver listening on http://localhost:<port>
//
// followed by the secrets file, home, vault and identity path and the
// commands to run next. Standard error gets one log line per request
// (method, path, machine id, status, duration) and one per applied change
// (the ids added, rotated and deleted), never a secret value. SIGINT or
// SIGTERM stops the watcher and the server and exits with status 0. A
// command-line error exits with status 2, any other startup failure with 1.
package main
