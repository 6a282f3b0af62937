import Foundation

/// The test server's sense of time: the wall clock plus an offset the test moves forward, so that token and
/// device-code expiry and the polling interval are tested without sleeping.
public final class OAuthTestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var offset: TimeInterval = 0

    /// A clock at the current wall-clock time.
    public init() {}

    /// Now, as the server sees it.
    public var now: Date { lock.withLock { Date().addingTimeInterval(offset) } }

    /// Moves the server's time forward.
    public func advance(by duration: Duration) {
        let components = duration.components
        let seconds = Double(components.seconds) + Double(components.attoseconds) / 1e18
        lock.withLock { offset += seconds }
    }
}
