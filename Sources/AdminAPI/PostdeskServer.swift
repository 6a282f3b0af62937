import EmailChannel
import Foundation
import Hummingbird
import Logging
import ServiceDesk
import ServiceLifecycle

#if canImport(Glibc)
    import Glibc
#endif

/// The `postdesk serve` process: the store, the email runtime and the admin socket, run by one
/// ServiceGroup that drains cleanly on SIGTERM/SIGINT.
public struct PostdeskServer: Sendable {
    public var dataDirectory: URL
    public var socketPath: String
    public var logger: Logger
    /// Attachments beyond this many bytes per message are dropped, and the request says so.
    public var maxAttachmentBytes: Int
    /// How often mailboxes without IMAP IDLE are polled (never below a provider's minimum).
    public var pollInterval: Duration
    /// Rate breaker and quarantine limits of intake.
    public var intakePolicy: IntakePolicy
    /// How often the router retries mail whose processing failed.
    public var inboundRetryInterval: Duration

    public init(
        dataDirectory: URL, socketPath: String?, maxAttachmentBytes: Int = 25 << 20,
        pollInterval: Duration = .seconds(60), intakePolicy: IntakePolicy = .init(),
        inboundRetryInterval: Duration = .seconds(30), logger: Logger
    ) {
        self.intakePolicy = intakePolicy
        self.inboundRetryInterval = inboundRetryInterval
        self.pollInterval = pollInterval
        self.maxAttachmentBytes = maxAttachmentBytes
        self.dataDirectory = dataDirectory
        self.socketPath = socketPath ?? dataDirectory.appendingPathComponent("admin.sock").path
        self.logger = logger
    }

    /// Runs until a shutdown signal.
    public func run() async throws {
        // Everything this process creates (database, key, socket) is private to its user.
        umask(0o077)
        try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
        let lock = try DataDirectoryLock(directory: dataDirectory)
        defer { lock.release() }

        let secrets = try SecretBox(keyFile: dataDirectory.appendingPathComponent("secret.key"))
        let store = try DeskStore(path: dataDirectory.appendingPathComponent("postdesk.sqlite").path, secrets: secrets)
        let statusBoard = ChannelStatusBoard()
        let router = RequestRouter(
            store: store, parseOptions: .init(maxAttachmentBytes: maxAttachmentBytes), policy: intakePolicy,
            sweepInterval: inboundRetryInterval, logger: logger)
        let notifier = Notifier(store: store, logger: logger)
        let supervisor = ChannelSupervisor(
            store: store, router: router, statusBoard: statusBoard, pollInterval: pollInterval, logger: logger)
        let routes = AdminRoutes(
            store: store, linker: MailboxLinker(store: store, logger: logger), supervisor: supervisor,
            notifier: notifier, statusBoard: statusBoard, verifier: ChannelVerifier(store: store, logger: logger),
            requestRouter: router, logger: logger)
        let httpRouter = Router()
        routes.register(on: httpRouter)

        // The lock proves no other server owns the socket, so a leftover file is stale.
        try? FileManager.default.removeItem(atPath: socketPath)
        let socketPath = self.socketPath
        let logger = self.logger
        let app = Application(
            router: httpRouter,
            configuration: .init(address: .unixDomainSocket(path: socketPath), serverName: "postdesk"),
            onServerRunning: { _ in
                chmod(socketPath, 0o600)
                logger.info("admin socket ready", metadata: ["socket.path": "\(socketPath)"])
            },
            logger: logger
        )
        // Shutdown runs in reverse: the admin API stops first, the notifier drains last.
        let group = ServiceGroup(
            configuration: .init(
                services: [notifier, router, supervisor, app],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
        try? FileManager.default.removeItem(atPath: socketPath)
    }
}

/// An exclusive lock on a data directory, so that two servers never share one database or socket.
struct DataDirectoryLock: ~Copyable {
    private let descriptor: Int32

    init(directory: URL) throws {
        let path = directory.appendingPathComponent("postdesk.lock").path
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw DeskError(.storage, "cannot open lock file \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw DeskError(
                .conflict, "another postdesk server is already running with data directory \(directory.path)")
        }
        self.descriptor = descriptor
    }

    func release() {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
