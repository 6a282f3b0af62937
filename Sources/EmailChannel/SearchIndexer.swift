import Logging
import ServiceDesk
import ServiceLifecycle

/// Keeps the console's search index current after intake commits, in batches, so that indexing never sits in the
/// intake transaction: a pass every two seconds, straight on while there is a backlog.
public struct SearchIndexer: Service {
    private let store: DeskStore
    private let logger: Logger
    private let pause: Duration

    public init(store: DeskStore, pause: Duration = .seconds(2), logger: Logger) {
        self.store = store
        self.pause = pause
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let indexed: Int
                do {
                    indexed = try await store.indexSearchText(limit: 500)
                } catch {
                    logger.warning("search indexing failed", metadata: ["error": "\(error)"])
                    indexed = 0
                }
                if indexed == 0 { try? await Task.sleep(for: pause) }
            }
        }
    }
}
