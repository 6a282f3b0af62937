import AdminAPI
import ArgumentParser
import EmailChannel
import Foundation
import LMTPServer
import Logging
import ServiceDesk

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the server: mailboxes, notifications and the admin socket.",
        discussion: """
            Examples:
              postdesk serve --data-dir /var/lib/postdesk
              postdesk serve --data-dir ./data --lmtp-listen 127.0.0.1:2424 \\
                  --admin-group support
            """)

    @Option(help: "Directory for the database and the admin socket (env POSTDESK_DATA_DIR).")
    var dataDir: String?

    @Option(help: "Admin socket path (env POSTDESK_SOCKET; default DATA_DIR/admin.sock).")
    var socket: String?

    @Option(help: "Key sealing stored passwords (env POSTDESK_SECRET_KEY_FILE; default DATA_DIR/secret.key).")
    var secretKeyFile: String?

    @Option(help: "Group whose members may use the admin socket too (env POSTDESK_ADMIN_GROUP).")
    var adminGroup: String?

    @Option(help: "Attachments beyond this many megabytes per message are dropped; the request says what was dropped.")
    var maxAttachmentMb: Int = 25

    @Option(help: "Seconds between polls of mailboxes without IMAP IDLE (a provider's minimum is never undercut).")
    var pollSeconds: Int = 60

    @Option(help: "Seconds between retries of a mail whose processing failed (it is quarantined after --max-attempts).")
    var inboundRetrySeconds: Int = 30

    @Option(help: "Processing attempts before a failing mail is quarantined (postdesk log --failed; inbound retry).")
    var maxAttempts: Int = 3

    @Option(help: "Mails an hour from one sender to one channel before the rest are held (0: no limit).")
    var senderRateLimit: Int = 20

    @Option(help: "Take push delivery by LMTP (RFC 2033) on HOST:PORT or unix:PATH, e.g. 127.0.0.1:2424.")
    var lmtpListen: String?

    @Option(help: "Largest message taken over LMTP, in bytes (announced as SIZE).")
    var lmtpMaxSize: Int = MailboxActor.defaultLargestMessage

    @Option(
        help:
            "Serve Prometheus metrics on HOST:PORT too (GET /metrics), e.g. 127.0.0.1:9464 (env POSTDESK_METRICS_LISTEN)."
    )
    var metricsListen: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func validate() throws {
        if let lmtpListen {
            do {
                _ = try LMTPListenAddress(parsing: lmtpListen)
            } catch {
                throw ValidationError("--lmtp-listen: \(error)")
            }
        }
        if let metrics = metricsListen ?? ProcessInfo.processInfo.environment["POSTDESK_METRICS_LISTEN"] {
            do { _ = try MetricsListenAddress(parsing: metrics) } catch {
                throw ValidationError("--metrics-listen: \(error)")
            }
        }
        guard lmtpMaxSize > 0 else { throw ValidationError("--lmtp-max-size must be positive") }
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let dataDir = dataDir ?? environment["POSTDESK_DATA_DIR"] ?? "./postdesk-data"
        let socket = socket ?? environment["POSTDESK_SOCKET"]
        let secretKeyFile = secretKeyFile ?? environment["POSTDESK_SECRET_KEY_FILE"]
        let adminGroup = adminGroup ?? environment["POSTDESK_ADMIN_GROUP"]
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "postdesk")
        let server = PostdeskServer(
            dataDirectory: URL(fileURLWithPath: dataDir, isDirectory: true), socketPath: socket,
            maxAttachmentBytes: max(maxAttachmentMb, 0) << 20, pollInterval: .seconds(max(pollSeconds, 1)),
            intakePolicy: IntakePolicy(senderHourlyLimit: max(senderRateLimit, 0), maxAttempts: max(maxAttempts, 1)),
            inboundRetryInterval: .seconds(max(inboundRetrySeconds, 1)),
            secretKeyFile: secretKeyFile.map { URL(fileURLWithPath: $0) },
            adminGroup: adminGroup.flatMap { $0.isEmpty ? nil : $0 },
            lmtpListen: try lmtpListen.map { try LMTPListenAddress(parsing: $0) }, lmtpMaximumSize: lmtpMaxSize,
            metricsListen: try (metricsListen ?? environment["POSTDESK_METRICS_LISTEN"]).map {
                try MetricsListenAddress(parsing: $0)
            }, logger: logger)
        do {
            try await server.run()
        } catch {
            printError("\(error)")
            throw ExitCode.failure
        }
    }
}
