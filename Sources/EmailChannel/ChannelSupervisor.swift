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
    /// What the supervisor has been asked to do and has not done yet: asks that arrive while it works are merged,
    /// so a burst of reloads (a thousand `channel add`s) costs one pass over what changed, not one each.
    struct Pending: Sendable {
        /// Compare every stored channel with the running mailboxes (start-up, or a change whose channel is unknown).
        var everything = false
        /// Channels that changed (added, removed, enabled, disabled, edited).
        var channels: Set<Int64> = []
        /// Mailboxes to stop and start again, in the order asked; each one is its own restart.
        var restarts: [Int64] = []
    }

    private let store: DeskStore
    private let router: RequestRouter
    private let statusBoard: ChannelStatusBoard
    private let logger: Logger
    private var pending = Pending()
    /// Wakes the run loop; it holds at most one wake-up, the work itself is in `pending`.
    private let wakeUps: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation
    /// Each running mailbox: its channel as it was started, the channel that stops it, and the one
    /// its task finishes once the mailbox has ended its session.
    private var running: [Int64: (channel: RunnableChannel, stop: AsyncChannel<Void>, ended: AsyncChannel<Void>)] =
        [:]

    private let makeMailbox: @Sendable (RunnableChannel) -> any MailboxRunning
    /// Push (LMTP) channels shown on the status board; they have no mailbox to run.
    private var pushChannels: Set<Int64> = []
    /// What the status board says of a push channel.
    private let pushDetail: String
    /// The channels this node may run, its mailbox leases (several nodes on PostgreSQL); nil: every channel.
    private var owned: Set<Int64>?
    /// What this server's LMTP listener is, as the status board shows it (`push delivery over LMTP on …`); nil when
    /// the server runs no `--lmtp-listen`, so push channels cannot receive mail.
    public nonisolated let pushDelivery: String?

    /// How many mailboxes fetch at once by default: enough to keep the store's writer and the mail server busy,
    /// few enough that a backlog in thousands of mailboxes neither floods the server with sessions fetching at
    /// once nor holds thousands of fetched batches in memory.
    public static let defaultFetchStreams = 16

    /// A supervisor whose mailboxes share one `FetchLimiter` of `fetchStreams` slots. With `leased`, it runs only the
    /// mailboxes whose leases `leasesChanged` hands it (one of several nodes); otherwise every enabled channel's.
    public init(
        store: DeskStore, router: RequestRouter, statusBoard: ChannelStatusBoard, pollInterval: Duration = .seconds(60),
        fetchStreams: Int = ChannelSupervisor.defaultFetchStreams, pushDetail: String? = nil,
        tokenKeeper: OAuthTokenKeeper? = nil, leased: Bool = false, logger: Logger
    ) {
        let limiter = FetchLimiter(limit: fetchStreams)
        self.init(
            store: store, router: router, statusBoard: statusBoard, pushDetail: pushDetail, leased: leased,
            logger: logger
        ) {
            channel in
            MailboxActor(
                channel: channel, store: store, router: router, statusBoard: statusBoard, pollInterval: pollInterval,
                fetchLimiter: limiter, tokenKeeper: tokenKeeper, logger: logger)
        }
    }

    /// A supervisor that runs what `makeMailbox` makes for each channel (tests).
    init(
        store: DeskStore, router: RequestRouter, statusBoard: ChannelStatusBoard, pushDetail: String? = nil,
        leased: Bool = false, logger: Logger, makeMailbox: @escaping @Sendable (RunnableChannel) -> any MailboxRunning
    ) {
        self.owned = leased ? [] : nil
        self.pushDelivery = pushDetail
        self.pushDetail = pushDetail ?? "push delivery over LMTP (this server has no --lmtp-listen)"
        self.makeMailbox = makeMailbox
        self.store = store
        self.router = router
        self.statusBoard = statusBoard
        self.logger = logger
        (wakeUps, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Asks the supervisor to compare the running mailboxes with all stored channels: for when what changed is
    /// not known. It reads every channel, so a change of one known channel should use `reload(channelId:)`.
    public nonisolated func reload() async {
        await ask { $0.everything = true }
    }

    /// Asks the supervisor to bring one channel's mailbox in line with its stored row: started when it was added or
    /// enabled, stopped when it was removed or disabled, started anew when it was edited. Only that row is read.
    public nonisolated func reload(channelId: Int64) async {
        await ask { $0.channels.insert(channelId) }
    }

    /// `reload(channelId:)` for several channels at once, e.g. the ones a `channel import` linked.
    public nonisolated func reload(channelIds: some Sequence<Int64> & Sendable) async {
        await ask { $0.channels.formUnion(channelIds) }
    }

    /// Restarts one mailbox at once, e.g. after an admin re-tested a channel that needed attention.
    public nonisolated func restart(channelId: Int64) async {
        await ask { $0.restarts.append(channelId) }
    }

    /// Takes in a lease round's result: the mailboxes of lost leases are stopped before this returns (so the lease can
    /// be given back), those of acquired ones start at the supervisor's next pass.
    public func leasesChanged(acquired: [Int64], lost: [Int64]) async {
        guard owned != nil else { return }
        owned?.subtract(lost)
        owned?.formUnion(acquired)
        for id in lost { await stop(id) }
        ask { $0.channels.formUnion(acquired) }
    }

    /// Stops the mailbox of a channel whose commit was fenced out: its lease is gone, and another node runs it.
    public func dropLease(channelId: Int64) async {
        guard owned != nil else { return }
        owned?.remove(channelId)
        await stop(channelId)
    }

    private func ask(_ change: @Sendable (inout Pending) -> Void) {
        change(&pending)
        wake.yield()
    }

    /// Takes what has been asked so far, leaving nothing pending.
    private func takePending() -> Pending {
        defer { pending = Pending() }
        return pending
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                await self.reconcileAll(in: &group)
                for await _ in self.wakeUps {
                    await self.work(self.takePending(), in: &group)
                }
                group.cancelAll()
            }
        }
        wake.finish()
    }

    /// Does one batch of asks: each restart first (stop, then start from the stored row), then a full pass when one
    /// was asked (it covers every changed channel), else a pass over the changed channels only.
    private func work(_ batch: Pending, in group: inout DiscardingTaskGroup) async {
        for id in batch.restarts {
            await stop(id)
            await reconcile([id], in: &group)
        }
        if batch.everything {
            await reconcileAll(in: &group)
        } else {
            await reconcile(batch.channels.subtracting(batch.restarts), in: &group)
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

    /// Shows a push channel on the status board; it has no mailbox to run.
    private func showPush(_ channel: RunnableChannel, id: Int64) async {
        guard !pushChannels.contains(id) else { return }
        let detail = pushDetail
        await statusBoard.update(id, address: channel.channel.address) { status in
            status.state = .idle
            status.detail = detail
        }
        pushChannels.insert(id)
    }

    private func hidePush(_ id: Int64) async {
        guard pushChannels.remove(id) != nil else { return }
        await statusBoard.remove(id)
    }

    /// Brings the channel `id` in line with `wanted`, its enabled stored row (nil: removed or disabled).
    private func apply(_ wanted: RunnableChannel?, id: Int64, in group: inout DiscardingTaskGroup) async {
        // Push channels get no session: the LMTP listener feeds them.
        guard let wanted, wanted.channel.enabled else {
            await stop(id)
            await hidePush(id)
            return
        }
        if wanted.channel.protocol == .lmtp {
            await stop(id)
            await showPush(wanted, id: id)
            return
        }
        await hidePush(id)
        // Another node holds this mailbox's lease.
        if let owned, !owned.contains(id) {
            await stop(id)
            return
        }
        if let entry = running[id], entry.channel != wanted { await stop(id) }
        if running[id] == nil { start(wanted, id: id, in: &group) }
    }

    /// Compares every stored channel with what runs: at start-up, and when what changed is not known.
    private func reconcileAll(in group: inout DiscardingTaskGroup) async {
        let wanted: [RunnableChannel]
        do {
            wanted = try await store.runnableChannels()
        } catch {
            logger.error("cannot load channels", metadata: ["error": "\(error)"])
            return
        }
        let wantedById = Dictionary(
            wanted.compactMap { c in c.channel.id.map { ($0, c) } }, uniquingKeysWith: { a, _ in a })
        for id in Set(running.keys).union(pushChannels) where wantedById[id] == nil {
            await apply(nil, id: id, in: &group)
        }
        for (id, channel) in wantedById { await apply(channel, id: id, in: &group) }
    }

    /// Compares only the channels `ids` with what runs for them; the other mailboxes are not touched.
    private func reconcile(_ ids: Set<Int64>, in group: inout DiscardingTaskGroup) async {
        guard !ids.isEmpty else { return }
        let wanted: [RunnableChannel]
        do {
            wanted = try await store.runnableChannels(ids: ids)
        } catch {
            logger.error("cannot load channels", metadata: ["error": "\(error)", "channels": "\(ids.count)"])
            return
        }
        let wantedById = Dictionary(
            wanted.compactMap { c in c.channel.id.map { ($0, c) } }, uniquingKeysWith: { a, _ in a })
        for id in ids { await apply(wantedById[id], id: id, in: &group) }
    }

    private func start(_ channel: RunnableChannel, id: Int64, in group: inout DiscardingTaskGroup) {
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
