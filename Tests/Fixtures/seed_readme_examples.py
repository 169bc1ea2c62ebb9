# The seed README's Python examples, "Creating an NPC" and "Starting a Conversation", verbatim.
# Only the imports they assume are added, and a deadline; the test points http://localhost:8000 at its own server.
import json
import requests

# Not in the README: the examples' requests have no timeout, so a server that stops answering would hold
# them for ever. The test runs a copy of this file away from Tests/Fixtures, where deadline.py cannot be
# imported: this is its whole-run deadline, inline. One streamed reply takes a minute at worst.
import os, signal, sys
signal.signal(signal.SIGALRM, lambda *_: (sys.stderr.write("seed_readme_examples: the README's examples did not "
                                                           "finish within 300 s\n"), sys.stderr.flush(), os._exit(3)))
signal.alarm(300)


life_strand = {
    "name": "Elena Rodriguez",
    "background": {
        "age": 32,
        "occupation": "Marine Biologist",
        "location": "Coastal Research Station",
        "history": "Grew up by the ocean, fascinated by marine life..."
    },
    "personality": {
        "traits": ["curious", "methodical", "passionate", "introverted"],
        "motivations": ["ocean conservation", "scientific discovery"],
        "fears": ["climate change impact", "funding cuts"]
    },
    "current_status": {
        "mood": "focused",
        "health": "good", 
        "energy": "high"
    },
    "relationships": {},
    "knowledge": [],
    "memories": []
}

# Create NPC via API
response = requests.post("http://localhost:8000/api/npcs", json=life_strand)
npc_id = response.json()["npc_id"]


# Start conversation
response = requests.post("http://localhost:8000/api/conversations/start", json={
    "npc_id": npc_id,
    "user_id": "user123"
})
session_id = response.json()["session_id"]

# Send message with streaming response
response = requests.post(f"http://localhost:8000/api/conversations/{session_id}/message", 
                        json={"content": "Tell me about your research"}, 
                        stream=True)

for chunk in response.iter_lines():
    if chunk:
        data = json.loads(chunk)
        if "token" in data:
            print(data["token"], end="")

