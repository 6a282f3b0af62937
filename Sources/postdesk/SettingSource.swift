/// Where a setting's value came from, in precedence order: flag, environment, config file, default.
enum SettingSource: Sendable, Equatable, CustomStringConvertible {
    /// A command-line option, e.g. `--poll-seconds`.
    case flag(String)
    /// An environment variable, e.g. `POSTDESK_POLL_SECONDS`.
    case environment(String)
    /// A line of a config file.
    case configFile(path: String, line: Int)
    /// The table's default (or nothing, when the setting has none).
    case defaultValue

    var description: String {
        switch self {
        case .flag(let flag): "flag \(flag)"
        case .environment(let name): "env \(name)"
        case .configFile(let path, let line): "config \(path):\(line)"
        case .defaultValue: "default"
        }
    }
}
