/// The one place that names postdesk's version: `postdesk --version` prints it and `/v1/health` reports it.
public enum PostdeskVersion {
    /// Semantic version of this build; raise it when a release is cut.
    public static let current = "0.1.0"
}
