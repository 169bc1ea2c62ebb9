extension JSONValue {
    /// Applies a JSON Merge Patch (RFC 7396) to this value and returns the result.
    ///
    /// An object patch merges member by member, `null` removes a member, anything else replaces.
    public func mergePatched(with patch: JSONValue) -> JSONValue {
        guard case .object(let patchMembers) = patch else { return patch }
        var members = objectValue ?? [:]
        for (key, value) in patchMembers {
            if value == .null {
                members.removeValue(forKey: key)
            } else {
                members[key] = (members[key] ?? .null).mergePatched(with: value)
            }
        }
        return .object(members)
    }
}

extension JSONValue {
    /// The JSON Merge Patch that turns `self` into `target`: `self.mergePatched(with: diff) == target`
    /// whenever `target` holds no `null` member values (a merge patch cannot express those).
    public func mergePatch(to target: JSONValue) -> JSONValue {
        guard case .object(let members) = self, case .object(let targetMembers) = target else { return target }
        var patch: [String: JSONValue] = [:]
        for (key, value) in members where targetMembers[key] == nil { patch[key] = .null }
        for (key, value) in targetMembers where members[key] != value {
            patch[key] = (members[key] ?? .null).mergePatch(to: value)
        }
        return .object(patch)
    }
}
