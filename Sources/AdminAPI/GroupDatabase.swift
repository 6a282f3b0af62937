#if canImport(Glibc)
    import Glibc
#endif

/// Lookups in the system's user and group databases (NSS), with the reentrant calls.
enum GroupDatabase {
    /// The gid of a group name, from the group database.
    static func groupID(named name: String) -> gid_t? {
        var entry = group()
        var result: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 4096)
        while true {
            let code = getgrnam_r(name, &entry, &buffer, buffer.count, &result)
            if code == ERANGE, buffer.count < 1 << 20 {
                buffer = [CChar](repeating: 0, count: buffer.count * 2)
                continue
            }
            return code == 0 && result != nil ? entry.gr_gid : nil
        }
    }

    /// The groups a user belongs to by the group database: `primary` and every group listing the
    /// user's name (getgrouplist(3)); empty when the uid has no user name.
    static func memberGroups(uid: uid_t, primary: gid_t) -> [gid_t] {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        while true {
            let code = getpwuid_r(uid, &entry, &buffer, buffer.count, &result)
            if code == ERANGE, buffer.count < 1 << 20 {
                buffer = [CChar](repeating: 0, count: buffer.count * 2)
                continue
            }
            guard code == 0, result != nil, let name = entry.pw_name else { return [] }
            var count: Int32 = 32
            while true {
                var groups = [gid_t](repeating: 0, count: Int(count))
                var wanted = count
                if getgrouplist(name, primary, &groups, &wanted) >= 0 {
                    return Array(groups.prefix(Int(wanted)))
                }
                // Too small: `wanted` now says how many there are.
                guard wanted > count, wanted < 1 << 16 else { return [] }
                count = wanted
            }
        }
    }

    /// The supplementary groups of this process.
    static func processGroups() -> [gid_t] {
        let count = getgroups(0, nil)
        guard count > 0 else { return [] }
        var groups = [gid_t](repeating: 0, count: Int(count))
        let got = getgroups(count, &groups)
        return got > 0 ? Array(groups.prefix(Int(got))) : []
    }
}
