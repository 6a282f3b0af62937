import EmailChannel
import Foundation
import Hummingbird
import LMTPServer
import Logging
import PostgresStore
import Prometheus
import ServiceDesk
import ServiceLifecycle
import WebConsole

#if canImport(Glibc)
    import Glibc
#endif

/// Where and how `serve --http-listen` serves the web console.
public struct ConsoleListen: Sendable {
    public var address: TCPListenAddress
    /// PEM certificate chain and key: HTTPS.
    public var tls: (certificate: String, key: String)?
    /// Believe `X-Forwarded-*` from a proxy on a loopback address.
    public var trustLoopbackProxy: Bool
    /// The address agents open (behind a proxy, the proxy's); nil: the listener's own.
    public var publicURL: String?

    public init(
        address: TCPListenAddress, tls: (certificate: String, key: String)?, trustLoopbackProxy: Bool,
        publicURL: String? = nil
    ) {
        self.address = address
        self.tls = tls
        self.trustLoopbackProxy = trustLoopbackProxy
        self.publicURL = publicURL
    }

    /// The console's base address for links, without a trailing slash.
    public var baseURL: String {
        if let publicURL { return publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL }
        let host = address.host.contains(":") ? "[\(address.host)]" : address.host
        return "\(tls == nil ? "http" : "https")://\(host):\(address.port)"
    }
}

/// Where the desk's data lives.
public enum DeskDatabase: Sendable {
    /// SQLite in the data directory, attachments beside it: one node.
    case sqlite
    /// A PostgreSQL database several nodes share, each running the mailboxes it holds leases on.
    case postgres(PostgresNode)
}

/// One node of a desk on PostgreSQL.
public struct PostgresNode: Sendable {
    /// The database URL (`postgres://…`, with `sslmode`).
    public var url: String
    /// The attachment directory every node shares (content-addressed files); nil: the bytes are kept in the
    /// database, and each node caches what it reads in its data directory.
    public var attachmentsDirectory: URL?
    /// This node's name among the desk's nodes.
    public var nodeName: String
    /// How long a mailbox lease lasts without renewal.
    public var leaseDuration: Duration

    public init(url: String, attachmentsDirectory: URL?, nodeName: String, leaseDuration: Duration) {
        self.url = url
        self.attachmentsDirectory = attachmentsDirectory
        self.nodeName = nodeName
        self.leaseDuration = leaseDuration
    }
}

/// The `postdesk serve` process: the store, the email runtime and the admin socket, run by one
/// ServiceGroup that drains cleanly on SIGTERM/SIGINT. The socket answers only the server's user,
/// root and the admin group's members (checked by peer credentials on every connection).
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
    /// The key that seals stored passwords (default `DATA_DIR/secret.key`).
    public var secretKeyFile: URL
    /// A group whose members may use the admin socket besides this user and root.
    public var adminGroup: String?
    /// Where an MTA delivers by LMTP (push delivery, DESIGN.md §7); nil: no listener.
    public var lmtpListen: LMTPListenAddress?
    /// Largest message taken over LMTP, in bytes (announced as SIZE).
    public var lmtpMaximumSize: Int
    /// Where `GET /metrics` is served over TCP too (it always is on the admin socket); nil: only there.
    public var metricsListen: TCPListenAddress?
    /// Where the agents' web console listens; nil: no console.
    public var console: ConsoleListen?
    /// SQLite in the data directory, or a node on PostgreSQL.
    public var database: DeskDatabase

    public init(
        dataDirectory: URL, socketPath: String?, maxAttachmentBytes: Int = 25 << 20,
        pollInterval: Duration = .seconds(60), intakePolicy: IntakePolicy = .init(),
        inboundRetryInterval: Duration = .seconds(30), secretKeyFile: URL? = nil, adminGroup: String? = nil,
        lmtpListen: LMTPListenAddress? = nil, lmtpMaximumSize: Int = MailboxActor.defaultLargestMessage,
        metricsListen: TCPListenAddress? = nil, console: ConsoleListen? = nil, database: DeskDatabase = .sqlite,
        logger: Logger
    ) {
        self.database = database
        self.console = console
        self.metricsListen = metricsListen
        self.lmtpListen = lmtpListen
        self.lmtpMaximumSize = lmtpMaximumSize
        self.intakePolicy = intakePolicy
        self.inboundRetryInterval = inboundRetryInterval
        self.secretKeyFile = secretKeyFile ?? dataDirectory.appendingPathComponent("secret.key")
        self.adminGroup = adminGroup
        self.pollInterval = pollInterval
        self.maxAttachmentBytes = maxAttachmentBytes
        self.dataDirectory = dataDirectory
        self.socketPath = socketPath ?? dataDirectory.appendingPathComponent("admin.sock").path
        self.logger = logger
    }

    /// How long a graceful shutdown (SIGTERM) may take before what still runs is cancelled: the
    /// notifier's own drain deadline, and room for the mailboxes to log out.
    /// How intake treats floods and failing mail (`--sender-rate-limit`, `--max-attempts`).
    public typealias IntakePolicy = ServiceDesk.IntakePolicy

    /// The largest message taken over LMTP unless `--lmtp-max-size` says otherwise: a mailbox's own limit.
    public static let defaultLMTPMaximumSize = MailboxActor.defaultLargestMessage

    public static let shutdownDeadline: Duration = Notifier.drainDeadline + .seconds(10)

    /// The admin socket's routes: every `/v1` route (the HTTP listener serves those of `routes` to API tokens), and
    /// what only the socket answers: backups, API tokens and the metrics.
    static func socketRouter(
        routes: AdminRoutes, metricsEndpoint: MetricsEndpoint, store: DeskStore, secretKeyFile: URL
    ) -> Router<AdminRequestContext> {
        let router = Router(context: AdminRequestContext.self)
        router.add(middleware: AdminErrorMiddleware())
        routes.register(on: router)
        metricsEndpoint.addRoutes(to: router)
        BackupRoutes(store: store, secretKeyFile: secretKeyFile).addRoutes(to: router.group("/v1/backup"))
        APITokenRoutes(store: store).addRoutes(to: router.group("/v1/tokens"))
        return router
    }

    /// Runs until a shutdown signal.
    public func run() async throws {
        // Everything this process creates (database, key, socket) is private to its user.
        umask(0o077)
        try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
        let lock = try DataDirectoryLock(directory: dataDirectory)
        defer { lock.release() }

        let access = try AdminAccessPolicy(groupName: adminGroup)
        let socket = AdminSocket(path: socketPath, adminGroup: access.group)
        // Before the store opens: a socket path holding anything but a dead socket stops the start.
        try socket.prepare()
        let secrets = try SecretBox(keyFile: secretKeyFile)
        // One registry for the process, served on the admin socket and on --metrics-listen.
        let registry = PrometheusCollectorRegistry()
        let metrics = PostdeskMetrics(factory: MetricsEndpoint.factory(for: registry))
        var store: DeskStore
        var cluster: Cluster?
        switch database {
        case .sqlite:
            store = try DeskStore(path: dataDirectory.appendingPathComponent("postdesk.sqlite").path, secrets: secrets)
        case .postgres(let node):
            let pool = try await PostgresPool.open(try PostgresLocation(url: node.url), logger: logger)
            store = DeskStore(
                backend: PostgresBackend(pool: pool), secrets: secrets,
                attachmentDirectory: node.attachmentsDirectory
                    ?? dataDirectory.appendingPathComponent("attachment-cache", isDirectory: true))
            store.attachmentsInDatabase = node.attachmentsDirectory == nil
            let joined = Cluster(node: node, pool: pool, metrics: metrics, logger: logger)
            store.intakeFence = joined.fence
            store.processingClaims = InboundClaims(nodeName: node.nodeName)
            cluster = joined
        }
        let statusBoard = ChannelStatusBoard()
        let tokenKeeper = OAuthTokenKeeper(store: store, logger: logger)
        let notifier = Notifier(store: store, metrics: metrics, tokenKeeper: tokenKeeper, logger: logger)
        let router = RequestRouter(
            store: store, parseOptions: .init(maxAttachmentBytes: maxAttachmentBytes), policy: intakePolicy,
            sweepInterval: inboundRetryInterval, metrics: metrics, notifier: notifier, logger: logger)
        let webhooks = WebhookDispatcher(store: store, logger: logger)
        let metricsEndpoint = MetricsEndpoint(
            registry: registry, metrics: metrics, statusBoard: statusBoard, store: store, logger: logger)
        let supervisor = ChannelSupervisor(
            store: store, router: router, statusBoard: statusBoard, pollInterval: pollInterval,
            pushDetail: lmtpListen.map { "push delivery over LMTP on \($0)" }, tokenKeeper: tokenKeeper,
            leased: cluster != nil, logger: logger)
        // A grant the provider refused: its mailbox starts again and shows why (needs-attention); the relay tries at
        // once, so its status says so too.
        await tokenKeeper.onGrantFailure { owner in
            switch owner {
            case .channel(let id): await supervisor.restart(channelId: id)
            case .relay: await notifier.retryRelayNow()
            }
        }
        var lmtp: [any Service] = []
        if let lmtpListen {
            lmtp.append(
                LMTPServer(
                    address: lmtpListen,
                    configuration: LMTPServerConfiguration(
                        hostname: ProcessInfo.processInfo.hostName, maximumMessageSize: lmtpMaximumSize),
                    handler: LMTPIntake(store: store, router: router, statusBoard: statusBoard, logger: logger),
                    logger: logger))
        }
        let routes = AdminRoutes(
            store: store, linker: MailboxLinker(store: store, logger: logger), supervisor: supervisor,
            notifier: notifier, statusBoard: statusBoard,
            verifier: ChannelVerifier(store: store, tokenKeeper: tokenKeeper, logger: logger), requestRouter: router,
            tokenKeeper: tokenKeeper, flows: OAuthFlows(store: store, logger: logger), consoleAddress: console?.baseURL,
            cluster: cluster.map { ClusterQueries(pool: $0.pool) }, logger: logger)
        let httpRouter = Self.socketRouter(
            routes: routes, metricsEndpoint: metricsEndpoint, store: store, secretKeyFile: secretKeyFile)

        let logger = self.logger
        let app = Application(
            router: httpRouter, server: AdminSocketChannel.builder(policy: access),
            configuration: .init(address: .unixDomainSocket(path: socket.bindingPath), serverName: "postdesk"),
            onServerRunning: { _ in await socket.claim(logger: logger) },
            logger: logger
        )
        let metricsListener: [any Service] = metricsListen.map { [metricsEndpoint.listener(at: $0)] } ?? []
        let consoleListener: [any Service] =
            try console.map { [try $0.service(store: store, notifier: notifier, routes: routes, logger: logger)] } ?? []
        // Shutdown runs in reverse: the admin API and the metrics listener stop first, then the LMTP listener (a
        // message being read or stored finishes, then 421), the mailboxes (LOGOUT, QUIT), the router (the mail it is committing),
        // the webhook dispatcher (the requests in flight), and the notifier drains last. Past the deadline what is
        // still running is cancelled, so the process always exits: nothing uncommitted is lost, since
        // a mailbox only flags what is stored and the outbox keeps what was not sent.
        // On several nodes the lease keeper stops before the supervisor (it stops the mailboxes it gives back first).
        let nodeServices = cluster.map { $0.services(supervisor: supervisor) } ?? []
        var configuration = ServiceGroupConfiguration(
            services: [
                notifier, webhooks, tokenKeeper, SearchIndexer(store: store, logger: logger), router, supervisor,
            ]
                + nodeServices
                + lmtp
                + metricsListener + consoleListener + [app],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger)
        configuration.maximumGracefulShutdownDuration = Self.shutdownDeadline
        configuration.maximumCancellationDuration = .seconds(5)
        let group = ServiceGroup(configuration: configuration)
        await socket.attach(group)
        do {
            try await group.run()
        } catch {
            await socket.release(logger: logger)
            throw error
        }
        await socket.release(logger: logger)
        await store.close()
        if let failure = await socket.failure { throw failure }
    }
}

/// What a node of a desk on PostgreSQL runs besides the rest: the lease board and its keeper, and the fence that
/// keeps a node that lost a lease from storing that mailbox's mail.
struct Cluster: Sendable {
    let pool: PostgresPool
    let leases: MailboxLeases
    let fence: LeaseFence
    let refusals: AsyncStream<FencedOut>
    let logger: Logger

    init(node: PostgresNode, pool: PostgresPool, metrics: PostdeskMetrics, logger: Logger) {
        self.pool = pool
        leases = MailboxLeases(
            pool: pool, nodeName: node.nodeName, leaseDuration: node.leaseDuration, followsDesk: true)
        let (refusals, refused) = AsyncStream.makeStream(of: FencedOut.self)
        self.refusals = refusals
        self.logger = logger
        fence = LeaseFence { refusal in
            metrics.fencedCommits.increment()
            logger.warning(
                "commit refused: the mailbox's lease is gone",
                metadata: ["mailbox.id": "\(refusal.channelId)", "error": "\(refusal)"])
            refused.yield(refusal)
        }
    }

    /// The keeper, which tells the fence and the supervisor what the node holds, and the service that stops a mailbox
    /// whose commit the fence refused.
    func services(supervisor: ChannelSupervisor) -> [any Service] {
        let fence = self.fence
        let keeper = LeaseKeeper(leases: leases, logger: logger) { changes in
            fence.apply(changes)
            await supervisor.leasesChanged(acquired: changes.acquired.map(\.channelID), lost: changes.lost)
        }
        return [keeper, FenceRefusals(refusals: refusals, supervisor: supervisor)]
    }
}

/// Stops each mailbox whose commit was fenced out; the node carries on with the others.
struct FenceRefusals: Service {
    let refusals: AsyncStream<FencedOut>
    let supervisor: ChannelSupervisor

    func run() async throws {
        await cancelWhenGracefulShutdown {
            for await refusal in refusals { await supervisor.dropLease(channelId: refusal.channelId) }
        }
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
