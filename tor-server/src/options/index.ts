export { option, parseOptions, usage, defaults, ConfigError, type Option, type OptionTable, type OptionValues } from './table.js';
export { InvalidValue, text, port, count, seconds, byteSize, parseByteSize, oneOf, list, yesNo, type Parser } from './parsers.js';
export { settingsOrExit, listenProblem, stopOnSignals, EXIT_USAGE, EXIT_FAILURE } from './startup.js';
export { torServerListening, gatewayListening, parseListening, type Listening, type TorServerListening, type GatewayListening } from './listening.js';
export { metricsOptions, listenForMetrics, MetricsListenError, metricsListening, parseMetricsListening, METRICS_PATH, DEFAULT_METRICS_HOST, type MetricsListener } from './metrics.js';
export { MIN_TLS_VERSION, TlsSetupError, checkTlsPair, readCa, readTlsIdentity, replaceIdentity, tlsServerOptions, type TlsIdentity } from './tls.js';
