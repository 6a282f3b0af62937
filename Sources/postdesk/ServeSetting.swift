import AdminAPI
import LMTPServer
import Logging
import PostdeskWire
import PostgresStore

/// The settings of `postdesk serve`, the one table of their names (flag and config key), environment variables,
/// defaults, secrecy and checks. A new setting is a case and its line in `row` (plus the `@Option` and its entry in
/// `ServeCommand.flags`, which a test holds to this table).
enum ServeSetting: String, SettingTable {
    case dataDir = "data-dir"
    case socket
    case secretKeyFile = "secret-key-file"
    case adminGroup = "admin-group"
    case maxAttachmentMb = "max-attachment-mb"
    case pollSeconds = "poll-seconds"
    case inboundRetrySeconds = "inbound-retry-seconds"
    case maxAttempts = "max-attempts"
    case senderRateLimit = "sender-rate-limit"
    case lmtpListen = "lmtp-listen"
    case lmtpMaxSize = "lmtp-max-size"
    case metricsListen = "metrics-listen"
    case httpListen = "http-listen"
    case tlsCert = "tls-cert"
    case tlsKey = "tls-key"
    case trustProxy = "trust-proxy"
    case publicURL = "public-url"
    case logLevel = "log-level"
    case logFormat = "log-format"
    case database
    case attachmentsDir = "attachments-dir"
    case nodeName = "node-name"
    case leaseSeconds = "lease-seconds"

    static let environmentPrefix = "POSTDESK_"

    var row: SettingRow {
        switch self {
        case .dataDir:
            SettingRow(
                summary: "Directory for the database and the admin socket", kind: .path,
                fallback: .value("./postdesk-data"))
        case .socket:
            SettingRow(summary: "Admin socket path", kind: .path, fallback: .derived("DATA_DIR/admin.sock"))
        case .secretKeyFile:
            SettingRow(summary: "Key sealing stored passwords", kind: .path, fallback: .derived("DATA_DIR/secret.key"))
        case .adminGroup:
            SettingRow(summary: "Group whose members may use the admin socket too", kind: .text, fallback: .none)
        case .maxAttachmentMb:
            SettingRow(
                summary:
                    "Attachments beyond this many megabytes per message are dropped; the request says what was dropped",
                kind: .wholeNumber(minimum: 0, maximum: Int.max >> 20), fallback: .value("25"))
        case .pollSeconds:
            SettingRow(
                summary:
                    "Seconds between polls of mailboxes without IMAP IDLE (a provider's minimum is never undercut)",
                kind: .wholeNumber(minimum: 1), fallback: .value("60"))
        case .inboundRetrySeconds:
            SettingRow(
                summary: "Seconds between retries of a mail whose processing failed (quarantined after --max-attempts)",
                kind: .wholeNumber(minimum: 1), fallback: .value("30"))
        case .maxAttempts:
            SettingRow(
                summary:
                    "Processing attempts before a failing mail is quarantined (postdesk log --failed; inbound retry)",
                kind: .wholeNumber(minimum: 1), fallback: .value("3"))
        case .senderRateLimit:
            SettingRow(
                summary: "Mails an hour from one sender to one channel before the rest are held (0: no limit)",
                kind: .wholeNumber(minimum: 0), fallback: .value("20"))
        case .lmtpListen:
            SettingRow(
                summary: "Take push delivery by LMTP (RFC 2033) on HOST:PORT or unix:PATH, e.g. 127.0.0.1:2424",
                kind: .parsed { _ = try LMTPListenAddress(parsing: $0) }, fallback: .none)
        case .lmtpMaxSize:
            SettingRow(
                summary: "Largest message taken over LMTP, in bytes (announced as SIZE)",
                kind: .wholeNumber(minimum: 1),
                fallback: .value("\(PostdeskServer.defaultLMTPMaximumSize)"))
        case .metricsListen:
            SettingRow(
                summary: "Serve Prometheus metrics on HOST:PORT too (GET /metrics), e.g. 127.0.0.1:9464",
                kind: .parsed { _ = try TCPListenAddress(parsing: $0) }, fallback: .none)
        case .httpListen:
            SettingRow(
                summary: "Serve the agents' web console on HOST:PORT, e.g. 127.0.0.1:8080 (off unless given)",
                kind: .parsed { _ = try TCPListenAddress(parsing: $0) }, fallback: .none)
        case .tlsCert:
            SettingRow(
                summary: "PEM certificate chain: the console speaks HTTPS (with --tls-key)", kind: .path,
                fallback: .none)
        case .tlsKey:
            SettingRow(summary: "PEM private key of --tls-cert", kind: .path, fallback: .none)
        case .trustProxy:
            SettingRow(
                summary:
                    "Believe X-Forwarded-For and X-Forwarded-Proto from a reverse proxy on this machine: loopback, or off",
                kind: .choice(["off", "loopback"]), fallback: .value("off"))
        case .publicURL:
            SettingRow(
                summary:
                    "The console's address as agents open it, for the links postdesk prints (default: from --http-listen), e.g. https://desk.example.com",
                kind: .text, fallback: .none)
        case .logLevel:
            SettingRow(
                summary: "Log level: trace, debug, info, notice, warning, error, critical",
                kind: .choice(Logger.Level.allCases.map(\.rawValue)), fallback: .value("info"))
        case .logFormat:
            SettingRow(
                summary: "Log format: text (a line a event) or json (an object a line)",
                kind: .choice(LogFormat.allCases.map(\.rawValue)), fallback: .value("text"))
        case .database:
            SettingRow(
                summary:
                    "PostgreSQL URL of a desk several nodes share (postgres://user:password@host:5432/db?sslmode=verify-full&sslrootcert=FILE; sslmode disable, prefer, require, verify-ca or verify-full); without it, SQLite in the data directory",
                kind: .parsed { _ = try PostgresLocation(url: $0) }, fallback: .none, isSecret: true,
                environmentName: "DATABASE_URL")
        case .attachmentsDir:
            SettingRow(
                summary:
                    "Directory of attachment files that every node shares (with --database); without it they are kept in the database",
                kind: .path, fallback: .derived("DATA_DIR/attachments with SQLite; the database with --database"))
        case .nodeName:
            SettingRow(
                summary: "This node's name among the desk's nodes (with --database)", kind: .text,
                fallback: .derived("the host name"))
        case .leaseSeconds:
            SettingRow(
                summary:
                    "Seconds a node's mailbox lease lasts without renewal (with --database): a dead node's mailboxes move after this",
                kind: .wholeNumber(minimum: 3, maximum: 3600), fallback: .value("30"))
        }
    }
}
