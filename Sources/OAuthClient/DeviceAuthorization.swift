/// A device authorization response (RFC 8628 §3.2): what to show the user and what to poll with.
public struct DeviceAuthorization: Sendable, Equatable, Codable {
    /// `device_code`, sent with each poll; a secret of this flow, never shown.
    public var deviceCode: String
    /// `user_code`, which the user types at the verification address.
    public var userCode: String
    /// `verification_uri`, or Google's `verification_url`.
    public var verificationURI: String
    /// `verification_uri_complete` (the address with the code filled in), when sent.
    public var verificationURIComplete: String?
    /// Seconds the device code stays valid.
    public var expiresIn: Int
    /// Seconds to wait between polls; 5 when absent (RFC 8628 §3.2).
    public var interval: Int
    /// The text Microsoft sends for the user ("To sign in, use a web browser to open …").
    public var message: String?

    /// A device authorization as the endpoint described it.
    public init(
        deviceCode: String, userCode: String, verificationURI: String, verificationURIComplete: String? = nil,
        expiresIn: Int, interval: Int = 5, message: String? = nil
    ) {
        self.deviceCode = deviceCode
        self.userCode = userCode
        self.verificationURI = verificationURI
        self.verificationURIComplete = verificationURIComplete
        self.expiresIn = expiresIn
        self.interval = interval
        self.message = message
    }
}
