import AsyncAlgorithms
import Logging
import ServiceDesk
import ServiceLifecycle

/// What the supervisor runs for one channel: a session loop that returns once cancelled and its
/// session has ended (LOGOUT or QUIT sent, the connection closed).
public protocol MailboxRunning: Sendable {
    func run() async
}

extension MailboxActor: MailboxRunning {}

/// Runs one MailboxActor per enabled channel in a task group, starts and stops them when the
/// channels change, and stops them all on shutdown.
public actor ChannelSupervisor: Service {
    private let store: DeskStore
    private let router: RequestRouter
    private let statusBoard: ChannelStatusBoard
    private let logger: Logger
    private let commands: AsyncChannel<Int64?>
    /// Each running mailbox: its channel as it was started, the channel that stops it, and the one
    /// its task finishes once the mailbox has ended its session.
    private var running: [Int64: (channel: RunnableChannel, stop: AsyncChannel<Void>, ended: AsyncChannel<Void>)] =
        [:]

    private let makeMailbox: @Sendable (RunnableChannel) -> any MailboxRunning
    /// Push (LMTP) channels shown on the status board; they have no mailbox to run.
    private var pushChannels: Set<Int64> = []
    /// What the status board says of a push channel.
    private let pushDetail: String

    /// How many mailboxes fetch at once by default: enough to keep the store's writer and the mail server busy,
    /// few enough that a backlog in thousands of mailboxes neither floods the server with sessions fetching at
    /// once nor holds thousands of fetched batches in memory.
    public static let defaultFetchStreams = 16

    /// A supervisor whose mailboxes share one `FetchLimiter` of `fetchStreams` slots.
    public init(
        store: DeskStore, router: RequestRouter, statusBoard: ChannelStatusBoard, pollInterval: Duration = .seconds(60),
        fetchStreams: Int = ChannelSupervisor.defaultFetchStreams, pushDetail: String? = nil, logger: Logger
    ) {
        let limiter = FetchLimiter(limit: fetchStreams)
        self.init(store: store, router: router, statusBoard: statusBoard, pushDetail: pushDetail, logger: logger) {
            channel in
            MailboxActor(
                channel: channel, store: store, router: router, statusBoard: statusBoard, pollInterval: pollInterval,
                fetchLimiter: limiter, logger: logger)
        }
    }

    /// A supervisor that runs what `makeMailbox` makes for each channel (tests).
    init(
        store: DeskStore, router: RequestRouter, statusBoard: ChannelStatusBoard, pushDetail: String? = nil,
        logger: Logger, makeMailbox: @escaping @Sendable (RunnableChannel) -> any MailboxRunning
    ) {
        self.pushDetail = pushDetail ?? "push delivery over LMTP (this server has no --lmtp-listen)"
        self.makeMailbox = makeMailbox
        self.store = store
        self.router = router
        self.statusBoard = statusBoard
        self.logger = logger
        self.commands = AsyncChannel()
    }

    /// Asks the supervisor to compare the running mailboxes with the stored channels.
    public nonisolated func reload() async {
        await commands.send(nil)
    }

    /// Restarts one mailbox at once, e.g. after an admin re-tested a channel that needed attention.
    public nonisolated func restart(channelId: Int64) async {
        await commands.send(channelId)
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                await self.reconcile(in: &group)
                for await restart in self.commands {
                    if let restart { await self.stop(restart) }
                    await self.reconcile(in: &group)
                }
                group.cancelAll()
            }
        }
    }

    /// Stops a mailbox and waits until its session has ended, so that a new one for the same
    /// mailbox never runs beside it (two sessions could fetch and flag the same mail).
    private func stop(_ channelId: Int64) async {
        guard let entry = running.removeValue(forKey: channelId) else { return }
        entry.stop.finish()
        for await _ in entry.ended {}
        await statusBoard.remove(channelId)
    }

    /// Puts the enabled push channels on the status board (and takes off those gone), so `status` lists them.
    private func showPushChannels(_ channels: [RunnableChannel]) async {
        let ids = Set(channels.compactMap(\.channel.id))
        for gone in pushChannels.subtracting(ids) { await statusBoard.remove(gone) }
        let detail = pushDetail
        for channel in channels {
            guard let id = channel.channel.id, !pushChannels.contains(id) else { continue }
            await statusBoard.update(id, address: channel.channel.address) { status in
                status.state = .idle
                status.detail = detail
            }
        }
        pushChannels = ids
    }

    private func reconcile(in group: inout DiscardingTaskGroup) async {
        let wanted: [RunnableChannel]
        do {
            let all = try await store.runnableChannels()
            // Push channels get no session: the LMTP listener feeds them.
            wanted = all.filter { $0.channel.protocol != .lmtp }
            await showPushChannels(all.filter { $0.channel.protocol == .lmtp })
        } catch {
            logger.error("cannot load channels", metadata: ["error": "\(error)"])
            return
        }
        let wantedById = Dictionary(
            wanted.compactMap { c in c.channel.id.map { ($0, c) } }, uniquingKeysWith: { a, _ in a })
        for (id, entry) in running where wantedById[id] != entry.channel {
            await stop(id)
        }
        for (id, channel) in wantedById where running[id] == nil {
            let stop = AsyncChannel<Void>()
            let ended = AsyncChannel<Void>()
            running[id] = (channel, stop, ended)
            let mailbox = makeMailbox(channel)
            logger.info("mailbox started", metadata: ["mailbox.id": "\(id)"])
            group.addTask {
                await withTaskGroup(of: Void.self) { pair in
                    pair.addTask { await mailbox.run() }
                    pair.addTask {
                        for await _ in stop {}
                    }
                    await pair.next()
                    pair.cancelAll()
                }
                ended.finish()
            }
        }
    }
}
