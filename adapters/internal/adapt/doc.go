// Package adapt is the code the configuration-library adapters
// (adapters/koanf and adapters/viper) share: the set of secrets an adapter
// reads and the nested map it builds from them (SecretSet), and the watch
// that turns the client's per-secret watch events into batches delivered on
// a goroutine of the adapter's (Watcher).
//
// The adapters are separate Go modules, so that neither pulls the other's
// library into a build; this package belongs to the root module and imports
// neither library. Being internal, it is not part of the public API.
package adapt
