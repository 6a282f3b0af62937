import Foundation
import PostdeskWire

/// What a mailbox is doing right now, as shown by `postdesk status` and `/v1/health`.
public struct ChannelStatus: Sendable, Codable, Equatable {
    public var state: MailboxState
    public var address: String
    public var detail: String?
    public var retryAt: Date?
    public var lastSuccessAt: Date?
    public var lastError: String?
    public var processedToday: Int
    /// The day `processedToday` counts, as `yyyy-MM-dd` in UTC.
    var day: String

    init(address: String) {
        self.state = .starting
        self.address = address
        self.processedToday = 0
        self.day = ""
    }
}

/// Collects the state of every mailbox for the admin; the mailbox actors report into it.
public actor ChannelStatusBoard {
    private var statuses: [Int64: ChannelStatus] = [:]
    /// `yyyy-MM-dd` in UTC, made once: a formatter costs far more to make than to use.
    private let dayFormatter: ISO8601DateFormatter = {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = .gmt
        formatter.formatOptions = [.withFullDate]
        return formatter
    }()

    public init() {}

    /// Every channel's status, by address.
    public func all() -> [ChannelStatus] {
        statuses.values.sorted { $0.address < $1.address }
    }

    /// How many channels are in each state (`/metrics`): no address, no sorting.
    public func countsByState() -> [MailboxState: Int] {
        statuses.values.reduce(into: [:]) { counts, status in counts[status.state, default: 0] += 1 }
    }

    func update(_ channelId: Int64, address: String, _ change: @Sendable (inout ChannelStatus) -> Void) {
        var status = statuses[channelId] ?? ChannelStatus(address: address)
        change(&status)
        statuses[channelId] = status
    }

    func countProcessed(_ channelId: Int64, address: String, count: Int, now: Date = Date()) {
        let day = dayFormatter.string(from: now)
        update(channelId, address: address) { status in
            if status.day != day {
                status.day = day
                status.processedToday = 0
            }
            status.processedToday += count
        }
    }

    func remove(_ channelId: Int64) {
        statuses[channelId] = nil
    }
}
