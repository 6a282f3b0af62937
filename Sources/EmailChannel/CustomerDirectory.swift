import ServiceDesk

/// Answers who may raise requests through a channel: never a blocked address or domain; under
/// public signup anyone else, under restricted signup the project's customers and allowed senders.
public actor CustomerDirectory {
    private let store: DeskStore

    public init(store: DeskStore) {
        self.store = store
    }

    /// Whether mail from `sender` through the channel is processed, and if not, why.
    public func admission(sender: String, channelId: Int64) async throws -> Admission {
        try await store.admission(sender: sender, channelId: channelId)
    }
}
