/// What happened at one poll of the device flow that did not end it (RFC 8628 §3.5).
public enum DevicePollEvent: Sendable, Equatable {
    /// `authorization_pending`: the user has not finished yet; `polls` counts the polls so far.
    case pending(polls: Int)
    /// `slow_down`: the interval grew by 5 s (RFC 8628 §3.5) and is now `interval` seconds.
    case slowDown(interval: Int)
}
