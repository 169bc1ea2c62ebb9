import CLlama

/// Why a generation stopped.
public enum FinishReason: String, Sendable, Codable {
    /// The model ended its turn.
    case endOfGeneration = "stop"
    /// `maxTokens` was reached.
    case length
    /// One of the stop strings appeared.
    case stopString = "stop_string"
}

/// The text a generation produced and what it cost.
public struct Generation: Sendable, Equatable {
    public var text: String
    public var promptTokens: Int
    public var generatedTokens: Int
    public var finishReason: FinishReason
}

extension LlamaContext {
    /// Generates a continuation of `prompt` on sequence 0, handing each complete piece of text to `onText`.
    ///
    /// The prompt is read with special tokens parsed, as chat-template output needs. The KV cache is
    /// cleared first; text is only ever handed out on UTF-8 character boundaries.
    /// - Throws: `LlamaError.promptTooLong` when prompt and `maxTokens` don't fit, or a decode failure.
    public func generate(
        prompt: String, parameters: SamplingParameters = .greedy, maxTokens: Int = 256, stop: [String] = [],
        onText: (String) -> Void = { _ in }
    ) throws(LlamaError) -> Generation {
        let tokens = try model.tokenize(prompt, addSpecial: true, parseSpecial: true)
        guard !tokens.isEmpty, tokens.count + maxTokens <= contextLength else {
            throw .promptTooLong(tokens: tokens.count + maxTokens, contextLength: contextLength)
        }
        clearMemory()
        let sampler = try Sampler(parameters, vocabularySize: model.vocabularySize)
        var batch = Batch(capacity: max(batchCapacity, 1))
        var position: Int32 = 0
        for chunkStart in stride(from: 0, to: tokens.count, by: batchCapacity) {
            batch.clear()
            let chunk = tokens[chunkStart..<min(chunkStart + batchCapacity, tokens.count)]
            for token in chunk {
                batch.append(token, position: position, sequence: 0, wantsLogits: Int(position) == tokens.count - 1)
                position += 1
            }
            try decode(batch)
        }

        var decoder = UTF8StreamDecoder()
        var matcher = StopStringMatcher(stops: stop)
        var text = ""
        var generated = 0
        var finish = FinishReason.length
        func release(_ piece: String) {
            guard !piece.isEmpty else { return }
            text += piece
            onText(piece)
        }
        while generated < maxTokens {
            let token = sampler.sample(raw)
            if model.isEndOfGeneration(token) {
                finish = .endOfGeneration
                break
            }
            generated += 1
            let (piece, stopped) = matcher.feed(decoder.append(model.piece(of: token)))
            release(piece)
            if stopped {
                finish = .stopString
                break
            }
            guard generated < maxTokens else { break }
            batch.clear()
            batch.append(token, position: position, sequence: 0, wantsLogits: true)
            position += 1
            try decode(batch)
        }
        if finish != .stopString {
            let (piece, stopped) = matcher.feed(decoder.flush())
            release(piece)
            if stopped { finish = .stopString } else { release(matcher.finish()) }
        }
        return Generation(text: text, promptTokens: tokens.count, generatedTokens: generated, finishReason: finish)
    }
}
