import ServiceDesk

/// Answers who may raise requests through a channel: under public signup anyone, under
/// restricted signup only the project's customers.
public actor CustomerDirectory {
    private let store: DeskStore

    public init(store: DeskStore) {
        self.store = store
    }

    /// Whether mail from `sender` through the channel is processed.
    public func admits(sender: String, channelId: Int64) async throws -> Bool {
        try await store.admits(sender: sender, channelId: channelId)
    }
}
