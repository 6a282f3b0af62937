import Logging
import ServiceDesk
import ServiceLifecycle

/// Keeps the console's search index current after intake commits, in batches, so that indexing never sits in the
/// intake transaction, and yields to intake: while mail is arriving (the newest inbound row changed during the
/// pause) it indexes a small batch each pause, and catches up in large ones once intake is quiet. A search catches
/// up on its own first (`DeskStore.consoleQueue`), so the lag is never seen.
public struct SearchIndexer: Service {
    private let store: DeskStore
    private let logger: Logger
    private let pause: Duration
    /// Rows a pass indexes while mail arrives, and once it is quiet.
    static let busyBatch = 50
    static let quietBatch = 500

    public init(store: DeskStore, pause: Duration = .seconds(2), logger: Logger) {
        self.store = store
        self.pause = pause
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var newest = try? await store.newestInboundId()
            while !Task.isCancelled {
                try? await Task.sleep(for: pause)
                let now = try? await store.newestInboundId()
                let busy = now != newest
                newest = now
                do {
                    // Quiet: straight on through a backlog, one large batch after another.
                    while !Task.isCancelled {
                        let indexed = try await store.indexSearchText(limit: busy ? Self.busyBatch : Self.quietBatch)
                        if busy || indexed == 0 { break }
                    }
                } catch {
                    logger.warning("search indexing failed", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}
