import AdminAPI
import ArgumentParser
import Foundation
import LMTPServer
import Logging
import PostdeskWire

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Run the server: mailboxes, notifications and the admin socket.",
        discussion: """
            Every option can also come from its POSTDESK_* variable (named in its help) or from a config file \
            (--config FILE or POSTDESK_CONFIG: `key = value` lines, keys as the options without --, # comments). \
            An option wins over the environment, the environment over the file, the file over the default; a \
            bad value or an unknown key stops the start. --print-config shows what applies, and from where.

            Examples:
              postdesk serve --data-dir /var/lib/postdesk
              postdesk serve --data-dir ./data --lmtp-listen 127.0.0.1:2424 \\
                  --admin-group support
              postdesk serve --config /etc/postdesk.conf --print-config
              postdesk serve --data-dir /var/lib/postdesk --node-name desk-a \\
                  --database 'postgres://postdesk:…@db.internal/postdesk?sslmode=verify-full&sslrootcert=/etc/ssl/db-ca.pem' \\
                  --secret-key-file /etc/postdesk/secret.key

            Several nodes share one PostgreSQL database (--database): each runs the mailboxes it holds leases on, at \
            most its share, and takes over a dead node's within --lease-seconds and 5 s. Give every node the same \
            secret key file, and its own --node-name and data directory. Attachments are kept in the database, or \
            in a directory every node shares (--attachments-dir).
            """)

    @Option(help: ArgumentHelp(ServeSetting.dataDir.help)) var dataDir: String?
    @Option(help: ArgumentHelp(ServeSetting.socket.help)) var socket: String?
    @Option(help: ArgumentHelp(ServeSetting.secretKeyFile.help)) var secretKeyFile: String?
    @Option(help: ArgumentHelp(ServeSetting.adminGroup.help)) var adminGroup: String?
    @Option(help: ArgumentHelp(ServeSetting.maxAttachmentMb.help)) var maxAttachmentMb: String?
    @Option(help: ArgumentHelp(ServeSetting.pollSeconds.help)) var pollSeconds: String?
    @Option(help: ArgumentHelp(ServeSetting.inboundRetrySeconds.help)) var inboundRetrySeconds: String?
    @Option(help: ArgumentHelp(ServeSetting.maxAttempts.help)) var maxAttempts: String?
    @Option(help: ArgumentHelp(ServeSetting.senderRateLimit.help)) var senderRateLimit: String?
    @Option(help: ArgumentHelp(ServeSetting.lmtpListen.help)) var lmtpListen: String?
    @Option(help: ArgumentHelp(ServeSetting.lmtpMaxSize.help)) var lmtpMaxSize: String?
    @Option(help: ArgumentHelp(ServeSetting.metricsListen.help)) var metricsListen: String?
    @Option(help: ArgumentHelp(ServeSetting.httpListen.help)) var httpListen: String?
    @Option(help: ArgumentHelp(ServeSetting.tlsCert.help)) var tlsCert: String?
    @Option(help: ArgumentHelp(ServeSetting.tlsKey.help)) var tlsKey: String?
    @Option(help: ArgumentHelp(ServeSetting.trustProxy.help)) var trustProxy: String?
    @Option(help: ArgumentHelp(ServeSetting.publicURL.help)) var publicUrl: String?
    @Option(help: ArgumentHelp(ServeSetting.logLevel.help)) var logLevel: String?
    @Option(help: ArgumentHelp(ServeSetting.logFormat.help)) var logFormat: String?
    @Option(help: ArgumentHelp(ServeSetting.database.help)) var database: String?
    @Option(help: ArgumentHelp(ServeSetting.attachmentsDir.help)) var attachmentsDir: String?
    @Option(help: ArgumentHelp(ServeSetting.nodeName.help)) var nodeName: String?
    @Option(help: ArgumentHelp(ServeSetting.leaseSeconds.help)) var leaseSeconds: String?

    @Option(
        help: ArgumentHelp(
            "Read settings from this file: `key = value` lines (env \(ResolvedSettings<ServeSetting>.configEnvironmentName)).",
            valueName: "file"))
    var config: String?

    @Flag(help: "Print each setting's effective value and where it came from, then exit; a bad one exits non-zero.")
    var printConfig = false

    /// The options given, by setting: one entry per `@Option` of the table (a test holds them to each other).
    var flags: [ServeSetting: String] {
        let given: [ServeSetting: String?] = [
            .dataDir: dataDir, .socket: socket, .secretKeyFile: secretKeyFile, .adminGroup: adminGroup,
            .maxAttachmentMb: maxAttachmentMb, .pollSeconds: pollSeconds, .inboundRetrySeconds: inboundRetrySeconds,
            .maxAttempts: maxAttempts, .senderRateLimit: senderRateLimit, .lmtpListen: lmtpListen,
            .lmtpMaxSize: lmtpMaxSize, .metricsListen: metricsListen, .logLevel: logLevel, .logFormat: logFormat,
            .httpListen: httpListen, .tlsCert: tlsCert, .tlsKey: tlsKey, .trustProxy: trustProxy,
            .publicURL: publicUrl, .database: database, .attachmentsDir: attachmentsDir, .nodeName: nodeName,
            .leaseSeconds: leaseSeconds,
        ]
        return given.compactMapValues { $0 }
    }

    /// The settings from the options, `environment` and the config file, checked.
    func settings(environment: [String: String]) throws(SettingsError) -> ResolvedSettings<ServeSetting> {
        try ResolvedSettings.resolve(flags: flags, configFlag: config, environment: environment)
    }

    /// The value the server uses for a setting left unset, where it derives one from others.
    static func derived(_ setting: ServeSetting, in settings: ResolvedSettings<ServeSetting>) -> String? {
        let directory = URL(fileURLWithPath: settings.value(.dataDir) ?? ".", isDirectory: true)
        switch setting {
        case .socket: return directory.appendingPathComponent("admin.sock").path
        case .secretKeyFile: return directory.appendingPathComponent("secret.key").path
        case .nodeName: return ProcessInfo.processInfo.hostName
        default: return nil
        }
    }

    func run() async throws {
        let settings: ResolvedSettings<ServeSetting>
        do throws(SettingsError) {
            settings = try self.settings(environment: ProcessInfo.processInfo.environment)
        } catch {
            for problem in error.problems { printError(problem.message) }
            throw ExitCode.validationFailure
        }
        if printConfig {
            print(settings.printed { Self.derived($0, in: settings) }.joined(separator: "\n"))
            return
        }
        func value(_ setting: ServeSetting) -> String? {
            settings.value(setting) ?? Self.derived(setting, in: settings)
        }
        let level = settings.value(.logLevel).flatMap(Logger.Level.init(rawValue:)) ?? .info
        let format = settings.value(.logFormat).flatMap(LogFormat.init(rawValue:)) ?? .text
        LoggingSystem.bootstrap { label in PostdeskLogHandler(label: label, format: format, level: level) }
        let logger = Logger(label: "postdesk")
        let dataDirectory = URL(fileURLWithPath: value(.dataDir) ?? ".", isDirectory: true)
        let tls: (certificate: String, key: String)?
        switch (value(.tlsCert), value(.tlsKey)) {
        case (let certificate?, let key?): tls = (certificate, key)
        case (nil, nil): tls = nil
        default:
            printError("--tls-cert and --tls-key go together")
            throw ExitCode.validationFailure
        }
        if tls != nil, value(.httpListen) == nil {
            printError("--tls-cert and --tls-key are for the web console: give --http-listen too")
            throw ExitCode.validationFailure
        }
        let console = try value(.httpListen).map {
            ConsoleListen(
                address: try TCPListenAddress(parsing: $0), tls: tls,
                trustLoopbackProxy: value(.trustProxy) == "loopback", publicURL: value(.publicURL))
        }
        let database: DeskDatabase
        if let url = value(.database) {
            database = .postgres(
                PostgresNode(
                    url: url,
                    attachmentsDirectory: value(.attachmentsDir).map { URL(fileURLWithPath: $0, isDirectory: true) },
                    nodeName: value(.nodeName) ?? ProcessInfo.processInfo.hostName,
                    leaseDuration: .seconds(settings.number(.leaseSeconds))))
        } else {
            if value(.attachmentsDir) != nil {
                printError("--attachments-dir is for a desk on PostgreSQL (--database); SQLite keeps them beside it")
                throw ExitCode.validationFailure
            }
            database = .sqlite
        }
        let server = PostdeskServer(
            dataDirectory: dataDirectory, socketPath: value(.socket),
            maxAttachmentBytes: settings.number(.maxAttachmentMb) << 20,
            pollInterval: .seconds(settings.number(.pollSeconds)),
            intakePolicy: PostdeskServer.IntakePolicy(
                senderHourlyLimit: settings.number(.senderRateLimit), maxAttempts: settings.number(.maxAttempts)),
            inboundRetryInterval: .seconds(settings.number(.inboundRetrySeconds)),
            secretKeyFile: value(.secretKeyFile).map { URL(fileURLWithPath: $0) }, adminGroup: value(.adminGroup),
            lmtpListen: try value(.lmtpListen).map { try LMTPListenAddress(parsing: $0) },
            lmtpMaximumSize: settings.number(.lmtpMaxSize),
            metricsListen: try value(.metricsListen).map { try TCPListenAddress(parsing: $0) }, console: console,
            database: database, logger: logger)
        do {
            try await server.run()
        } catch {
            printError("\(error)")
            throw ExitCode.failure
        }
    }
}
