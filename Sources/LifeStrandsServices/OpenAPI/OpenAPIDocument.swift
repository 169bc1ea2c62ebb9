/// The OpenAPI 3.1 description of the public API, served at `/openapi.json`.
///
/// A test fails when a registered route is missing here: add every new route to this document.
enum OpenAPIDocument {
    static let json = #"""
{
  "openapi": "3.1.0",
  "info": {
    "title": "Life Strands API",
    "version": "0.1.0",
    "description": "Persistent, evolving NPCs. Every route answers errors as {\"error\": {\"code\", \"message\", \"details\"}}."
  },
  "servers": [
    {
      "url": "http://localhost:8000"
    }
  ],
  "paths": {
    "/health": {
      "get": {
        "summary": "Service health: status, version, uptime, database",
        "tags": [
          "System"
        ],
        "responses": {
          "200": {
            "description": "Healthy",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Health"
                }
              }
            }
          },
          "503": {
            "description": "The database does not answer",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Health"
                }
              }
            }
          }
        }
      }
    },
    "/openapi.json": {
      "get": {
        "summary": "This document",
        "tags": [
          "System"
        ],
        "responses": {
          "200": {
            "description": "OpenAPI 3.1 description of the API",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object"
                }
              }
            }
          }
        }
      }
    },
    "/api/npcs": {
      "post": {
        "summary": "Create an NPC from a Life Strand",
        "tags": [
          "NPCs"
        ],
        "responses": {
          "201": {
            "description": "Created; Location names the NPC",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "required": [
                    "npc_id",
                    "revision"
                  ],
                  "properties": {
                    "npc_id": {
                      "type": "string",
                      "format": "uuid"
                    },
                    "revision": {
                      "type": "integer"
                    }
                  }
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Error"
          },
          "413": {
            "$ref": "#/components/responses/Error"
          },
          "422": {
            "$ref": "#/components/responses/Error"
          }
        },
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/LifeStrand"
              }
            }
          }
        }
      },
      "get": {
        "summary": "List NPCs, oldest first, a page at a time",
        "tags": [
          "NPCs"
        ],
        "responses": {
          "200": {
            "description": "One page",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/NPCPage"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Error"
          }
        },
        "parameters": [
          {
            "name": "name",
            "in": "query",
            "required": false,
            "description": "Part of the name, any case",
            "schema": {
              "type": "string"
            }
          },
          {
            "name": "location",
            "in": "query",
            "required": false,
            "description": "Whole location, any case",
            "schema": {
              "type": "string"
            }
          },
          {
            "name": "occupation",
            "in": "query",
            "required": false,
            "description": "Whole occupation, any case",
            "schema": {
              "type": "string"
            }
          },
          {
            "name": "trait",
            "in": "query",
            "required": false,
            "description": "One personality trait, any case",
            "schema": {
              "type": "string"
            }
          },
          {
            "name": "limit",
            "in": "query",
            "required": false,
            "description": "Page size",
            "schema": {
              "type": "integer",
              "minimum": 1,
              "maximum": 200,
              "default": 50
            }
          },
          {
            "name": "cursor",
            "in": "query",
            "required": false,
            "description": "next_cursor from the previous page",
            "schema": {
              "type": "string"
            }
          }
        ]
      }
    },
    "/api/npcs/{id}": {
      "get": {
        "summary": "An NPC's current Life Strand",
        "tags": [
          "NPCs"
        ],
        "responses": {
          "200": {
            "description": "The NPC",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/NPC"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Error"
          },
          "404": {
            "$ref": "#/components/responses/Error"
          }
        },
        "parameters": [
          {
            "$ref": "#/components/parameters/NPCId"
          }
        ]
      },
      "put": {
        "summary": "Replace the whole Life Strand (a new revision)",
        "tags": [
          "NPCs"
        ],
        "responses": {
          "200": {
            "description": "The NPC after the change",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/NPC"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Error"
          },
          "404": {
            "$ref": "#/components/responses/Error"
          },
          "413": {
            "$ref": "#/components/responses/Error"
          },
          "422": {
            "$ref": "#/components/responses/Error"
          }
        },
        "parameters": [
          {
            "$ref": "#/components/parameters/NPCId"
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/LifeStrand"
              }
            }
          }
        }
      },
      "patch": {
        "summary": "Change part of the Life Strand with a JSON Merge Patch (RFC 7396; a new revision)",
        "tags": [
          "NPCs"
        ],
        "responses": {
          "200": {
            "description": "The NPC after the change",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/NPC"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Error"
          },
          "404": {
            "$ref": "#/components/responses/Error"
          },
          "413": {
            "$ref": "#/components/responses/Error"
          },
          "422": {
            "$ref": "#/components/responses/Error"
          }
        },
        "parameters": [
          {
            "$ref": "#/components/parameters/NPCId"
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/merge-patch+json": {
              "schema": {
                "type": "object"
              }
            },
            "application/json": {
              "schema": {
                "type": "object"
              }
            }
          }
        }
      },
      "delete": {
        "summary": "Delete an NPC and its history",
        "tags": [
          "NPCs"
        ],
        "responses": {
          "204": {
            "description": "Deleted"
          },
          "400": {
            "$ref": "#/components/responses/Error"
          },
          "404": {
            "$ref": "#/components/responses/Error"
          }
        },
        "parameters": [
          {
            "$ref": "#/components/parameters/NPCId"
          }
        ]
      }
    },
    "/api/npcs/{id}/revisions": {
      "get": {
        "summary": "An NPC's history, oldest first",
        "tags": [
          "NPCs"
        ],
        "responses": {
          "200": {
            "description": "The revisions, without their Life Strands",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "properties": {
                    "npc_id": {
                      "type": "string",
                      "format": "uuid"
                    },
                    "revisions": {
                      "type": "array",
                      "items": {
                        "$ref": "#/components/schemas/Revision"
                      }
                    }
                  }
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Error"
          },
          "404": {
            "$ref": "#/components/responses/Error"
          }
        },
        "parameters": [
          {
            "$ref": "#/components/parameters/NPCId"
          }
        ]
      }
    },
    "/api/npcs/{id}/revisions/{revision}": {
      "get": {
        "summary": "One revision with its whole Life Strand",
        "tags": [
          "NPCs"
        ],
        "responses": {
          "200": {
            "description": "The revision",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Revision"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Error"
          },
          "404": {
            "$ref": "#/components/responses/Error"
          }
        },
        "parameters": [
          {
            "$ref": "#/components/parameters/NPCId"
          },
          {
            "$ref": "#/components/parameters/Revision"
          }
        ]
      }
    },
    "/api/npcs/{id}/revisions/{revision}/restore": {
      "post": {
        "summary": "Bring back an earlier revision's Life Strand as a new revision",
        "tags": [
          "NPCs"
        ],
        "responses": {
          "200": {
            "description": "The NPC after the restore",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/NPC"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Error"
          },
          "404": {
            "$ref": "#/components/responses/Error"
          }
        },
        "parameters": [
          {
            "$ref": "#/components/parameters/NPCId"
          },
          {
            "$ref": "#/components/parameters/Revision"
          }
        ]
      }
    },
    "/api/models/status": {
      "get": {
        "summary": "The model service: loaded models, sequences, active requests, queue depth",
        "tags": [
          "Models"
        ],
        "responses": {
          "200": {
            "description": "Status",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ModelStatus"
                }
              }
            }
          },
          "503": {
            "$ref": "#/components/responses/Error"
          }
        }
      }
    },
    "/api/models/generate": {
      "post": {
        "summary": "Generate text, streamed as NDJSON: {\"token\"} lines, then one {\"done\": true, …} line with the figures",
        "tags": [
          "Models"
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/GenerateRequest"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "A stream of JSON lines",
            "content": {
              "application/x-ndjson": {
                "schema": {
                  "$ref": "#/components/schemas/GenerateLine"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Error"
          },
          "413": {
            "$ref": "#/components/responses/Error"
          },
          "422": {
            "$ref": "#/components/responses/Error"
          },
          "503": {
            "description": "No model, a failed load, or the swap queue is full (then Retry-After says when to retry)",
            "headers": {
              "Retry-After": {
                "schema": {
                  "type": "integer"
                }
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      }
    },
    "/api/models/embed": {
      "post": {
        "summary": "Sentence embeddings (all-MiniLM-L6-v2: 384-d, mean-pooled, L2-normalised)",
        "tags": [
          "Models"
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "type": "object",
                "required": [
                  "texts"
                ],
                "properties": {
                  "texts": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 256,
                    "items": {
                      "type": "string",
                      "minLength": 1,
                      "maxLength": 20000
                    }
                  }
                }
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "One unit vector per text, in order",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "properties": {
                    "dimensions": {
                      "type": "integer"
                    },
                    "embeddings": {
                      "type": "array",
                      "items": {
                        "type": "array",
                        "items": {
                          "type": "number"
                        }
                      }
                    }
                  }
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Error"
          },
          "413": {
            "$ref": "#/components/responses/Error"
          },
          "422": {
            "$ref": "#/components/responses/Error"
          },
          "503": {
            "$ref": "#/components/responses/Error"
          }
        }
      }
    },
    "/api/models/switch": {
      "post": {
        "summary": "Make the chat or summary model resident now (others unload once idle if the memory budget needs it)",
        "tags": [
          "Models"
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "type": "object",
                "required": [
                  "type"
                ],
                "properties": {
                  "type": {
                    "type": "string",
                    "enum": [
                      "chat",
                      "summary"
                    ]
                  }
                }
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "The model service's status after the change",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ModelStatus"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Error"
          },
          "422": {
            "$ref": "#/components/responses/Error"
          },
          "503": {
            "$ref": "#/components/responses/Error"
          }
        }
      }
    },
    "/api/models/reload": {
      "post": {
        "summary": "Reload a model (or every resident one) from its file once its requests are done",
        "tags": [
          "Models"
        ],
        "requestBody": {
          "required": false,
          "content": {
            "application/json": {
              "schema": {
                "type": "object",
                "required": [],
                "properties": {
                  "type": {
                    "type": "string",
                    "enum": [
                      "chat",
                      "summary"
                    ]
                  }
                }
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "The model service's status after the change",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ModelStatus"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Error"
          },
          "422": {
            "$ref": "#/components/responses/Error"
          },
          "503": {
            "$ref": "#/components/responses/Error"
          }
        }
      }
    },
    "/api/conversations/start": {
      "post": {
        "summary": "Start a conversation between a player and an NPC",
        "tags": [
          "Conversations"
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "type": "object",
                "required": [
                  "npc_id",
                  "user_id"
                ],
                "properties": {
                  "npc_id": {
                    "type": "string",
                    "format": "uuid"
                  },
                  "user_id": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 200
                  }
                }
              }
            }
          }
        },
        "responses": {
          "201": {
            "description": "The new session",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Conversation"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Error"
          },
          "404": {
            "$ref": "#/components/responses/Error"
          },
          "413": {
            "$ref": "#/components/responses/Error"
          },
          "422": {
            "$ref": "#/components/responses/Error"
          },
          "429": {
            "description": "MAX_CONCURRENT_CONVERSATIONS sessions are active",
            "headers": {
              "Retry-After": {
                "schema": {
                  "type": "integer"
                }
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      }
    },
    "/api/conversations": {
      "get": {
        "summary": "Conversations, newest first",
        "tags": [
          "Conversations"
        ],
        "parameters": [
          {
            "name": "user_id",
            "in": "query",
            "schema": {
              "type": "string"
            }
          },
          {
            "name": "npc_id",
            "in": "query",
            "schema": {
              "type": "string",
              "format": "uuid"
            }
          },
          {
            "name": "limit",
            "in": "query",
            "schema": {
              "type": "integer",
              "minimum": 1,
              "maximum": 500
            }
          }
        ],
        "responses": {
          "200": {
            "description": "Matching conversations",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "required": [
                    "conversations"
                  ],
                  "properties": {
                    "conversations": {
                      "type": "array",
                      "items": {
                        "$ref": "#/components/schemas/Conversation"
                      }
                    }
                  }
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Error"
          }
        }
      }
    },
    "/api/conversations/{id}": {
      "get": {
        "summary": "A conversation with its transcript",
        "tags": [
          "Conversations"
        ],
        "parameters": [
          {
            "$ref": "#/components/parameters/SessionId"
          }
        ],
        "responses": {
          "200": {
            "description": "The session and its messages, oldest first",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Transcript"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Error"
          },
          "404": {
            "$ref": "#/components/responses/Error"
          }
        }
      }
    },
    "/api/conversations/{id}/message": {
      "post": {
        "summary": "Send a message; the NPC's reply streams back as NDJSON: {\"token\"} lines, then {\"done\": true, \"message_id\", \"usage\"}",
        "tags": [
          "Conversations"
        ],
        "parameters": [
          {
            "$ref": "#/components/parameters/SessionId"
          }
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "type": "object",
                "required": [
                  "content"
                ],
                "properties": {
                  "content": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 4000
                  }
                }
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "A stream of JSON lines",
            "content": {
              "application/x-ndjson": {
                "schema": {
                  "$ref": "#/components/schemas/ReplyLine"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Error"
          },
          "404": {
            "$ref": "#/components/responses/Error"
          },
          "409": {
            "description": "The conversation has ended, or its last reply is still streaming",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          },
          "413": {
            "$ref": "#/components/responses/Error"
          },
          "422": {
            "$ref": "#/components/responses/Error"
          },
          "503": {
            "description": "No chat model, or the swap queue is full (then Retry-After says when to retry)",
            "headers": {
              "Retry-After": {
                "schema": {
                  "type": "integer"
                }
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Error"
                }
              }
            }
          }
        }
      }
    },
    "/api/conversations/{id}/end": {
      "post": {
        "summary": "End a conversation (ending an ended one changes nothing)",
        "tags": [
          "Conversations"
        ],
        "parameters": [
          {
            "$ref": "#/components/parameters/SessionId"
          }
        ],
        "responses": {
          "200": {
            "description": "The ended session",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Conversation"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Error"
          },
          "404": {
            "$ref": "#/components/responses/Error"
          }
        }
      }
    },
    "/ws": {
      "get": {
        "summary": "WebSocket (upgrade): conversations and NPC status updates as JSON text frames. Client frames: subscribe_npc {npc_id}, unsubscribe_npc {npc_id?}, start_conversation {npc_id, user_id}, message {session_id, content}, end_conversation {session_id}. Server frames: subscribed, unsubscribed, conversation_started, token {session_id, content}, message_complete {session_id, message_id, usage}, conversation_ended, npc_status_update {npc_id, status}, error {code, message}. Frames over 64 KiB get an error frame; the connection closes past 1 MiB.",
        "tags": [
          "Conversations"
        ],
        "responses": {
          "101": {
            "description": "Switching to the WebSocket protocol"
          },
          "200": {
            "description": "Answered to a plain GET without an upgrade"
          }
        }
      }
    },
    "/api/summaries": {
      "get": {
        "summary": "Conversation analyses, newest first; pending ones carry proposed_change, the merge patch approving them would apply",
        "tags": [
          "Summaries"
        ],
        "parameters": [
          {
            "name": "state",
            "in": "query",
            "schema": {
              "type": "string",
              "enum": [
                "pending",
                "applied",
                "approved",
                "rejected"
              ]
            }
          },
          {
            "name": "npc_id",
            "in": "query",
            "schema": {
              "type": "string",
              "format": "uuid"
            }
          },
          {
            "name": "limit",
            "in": "query",
            "schema": {
              "type": "integer",
              "minimum": 1,
              "maximum": 500
            }
          }
        ],
        "responses": {
          "200": {
            "description": "Matching analyses",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "required": [
                    "analyses"
                  ],
                  "properties": {
                    "analyses": {
                      "type": "array",
                      "items": {
                        "$ref": "#/components/schemas/StoredAnalysis"
                      }
                    }
                  }
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Error"
          }
        }
      }
    },
    "/api/summaries/jobs": {
      "get": {
        "summary": "Summary jobs, newest first (state=dead lists the dead letters with their last error)",
        "tags": [
          "Summaries"
        ],
        "parameters": [
          {
            "name": "state",
            "in": "query",
            "schema": {
              "type": "string",
              "enum": [
                "queued",
                "running",
                "done",
                "dead"
              ]
            }
          },
          {
            "name": "limit",
            "in": "query",
            "schema": {
              "type": "integer",
              "minimum": 1,
              "maximum": 500
            }
          }
        ],
        "responses": {
          "200": {
            "description": "Matching jobs",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "required": [
                    "jobs"
                  ],
                  "properties": {
                    "jobs": {
                      "type": "array",
                      "items": {
                        "$ref": "#/components/schemas/SummaryJob"
                      }
                    }
                  }
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Error"
          }
        }
      }
    },
    "/api/summaries/{id}": {
      "get": {
        "summary": "One analysis",
        "tags": [
          "Summaries"
        ],
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "schema": {
              "type": "string",
              "format": "uuid"
            },
            "description": "The analysis_id"
          }
        ],
        "responses": {
          "200": {
            "description": "The analysis",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/StoredAnalysis"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Error"
          },
          "404": {
            "$ref": "#/components/responses/Error"
          }
        }
      }
    },
    "/api/summaries/{id}/approve": {
      "post": {
        "summary": "Apply a pending analysis as a new revision: as proposed ({}), or edited ({\"analysis\": {...}})",
        "tags": [
          "Summaries"
        ],
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "schema": {
              "type": "string",
              "format": "uuid"
            },
            "description": "The analysis_id"
          }
        ],
        "requestBody": {
          "required": false,
          "content": {
            "application/json": {
              "schema": {
                "type": "object",
                "properties": {
                  "analysis": {
                    "$ref": "#/components/schemas/ConversationAnalysis"
                  }
                }
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "The approved analysis, with the revision that applied it",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/StoredAnalysis"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Error"
          },
          "404": {
            "$ref": "#/components/responses/Error"
          },
          "409": {
            "$ref": "#/components/responses/Error"
          },
          "413": {
            "$ref": "#/components/responses/Error"
          },
          "422": {
            "$ref": "#/components/responses/Error"
          }
        }
      }
    },
    "/api/summaries/{id}/reject": {
      "post": {
        "summary": "Reject a pending analysis: its inferences are never applied",
        "tags": [
          "Summaries"
        ],
        "parameters": [
          {
            "name": "id",
            "in": "path",
            "required": true,
            "schema": {
              "type": "string",
              "format": "uuid"
            },
            "description": "The analysis_id"
          }
        ],
        "responses": {
          "200": {
            "description": "The rejected analysis",
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/StoredAnalysis"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Error"
          },
          "404": {
            "$ref": "#/components/responses/Error"
          },
          "409": {
            "$ref": "#/components/responses/Error"
          }
        }
      }
    },
    "/api/summaries/preview": {
      "post": {
        "summary": "What a model would make of a conversation (analysis and reviewed confidence); changes nothing",
        "tags": [
          "Summaries"
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "type": "object",
                "required": [
                  "npc_id",
                  "user_id",
                  "messages"
                ],
                "properties": {
                  "npc_id": {
                    "type": "string",
                    "format": "uuid"
                  },
                  "user_id": {
                    "type": "string"
                  },
                  "model": {
                    "type": "string",
                    "enum": [
                      "summary",
                      "chat"
                    ]
                  },
                  "messages": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 200,
                    "items": {
                      "type": "object",
                      "required": [
                        "role",
                        "content"
                      ],
                      "properties": {
                        "role": {
                          "type": "string",
                          "enum": [
                            "user",
                            "npc"
                          ]
                        },
                        "content": {
                          "type": "string"
                        }
                      }
                    }
                  }
                }
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "The analysis, its confidence after review, whether it would be applied, and how long it took",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "properties": {
                    "model": {
                      "type": "string"
                    },
                    "analysis": {
                      "$ref": "#/components/schemas/ConversationAnalysis"
                    },
                    "confidence": {
                      "type": "number"
                    },
                    "review_notes": {
                      "type": "array",
                      "items": {
                        "type": "string"
                      },
                      "description": "What code dropped from the model's proposal (a non-party, a word outside the vocabulary), and why"
                    },
                    "confidence_notes": {
                      "type": "array",
                      "items": {
                        "type": "string"
                      }
                    },
                    "would_apply": {
                      "type": "boolean",
                      "description": "whether some of its inferences would apply at once (those confident enough at the threshold)"
                    },
                    "would_hold": {
                      "type": "array",
                      "items": {
                        "type": "string"
                      },
                      "description": "the inferences that would wait for review, e.g. personality_changes[0]"
                    },
                    "seconds": {
                      "type": "number"
                    }
                  }
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Error"
          },
          "404": {
            "$ref": "#/components/responses/Error"
          },
          "413": {
            "$ref": "#/components/responses/Error"
          },
          "422": {
            "$ref": "#/components/responses/Error"
          },
          "503": {
            "$ref": "#/components/responses/Error"
          }
        }
      }
    },
    "/api/npcs/search": {
      "get": {
        "summary": "NPCs whose persona is most like the query (by `mode`: words, vectors, or both fused), best first",
        "tags": [
          "Search"
        ],
        "parameters": [
          {
            "name": "q",
            "in": "query",
            "required": true,
            "schema": {
              "type": "string",
              "minLength": 1,
              "maxLength": 2000
            }
          },
          {
            "name": "limit",
            "in": "query",
            "schema": {
              "type": "integer",
              "minimum": 1,
              "maximum": 100
            }
          },
          {
            "$ref": "#/components/parameters/SearchMode"
          }
        ],
        "responses": {
          "200": {
            "description": "Hits with scores",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "required": [
                    "results"
                  ],
                  "properties": {
                    "npc_id": {
                      "type": "string",
                      "format": "uuid"
                    },
                    "results": {
                      "type": "array",
                      "items": {
                        "type": "object",
                        "properties": {
                          "npc_id": {
                            "type": "string",
                            "format": "uuid"
                          },
                          "name": {
                            "type": "string"
                          },
                          "score": {
                            "type": "number"
                          }
                        }
                      }
                    }
                  }
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Error"
          },
          "503": {
            "$ref": "#/components/responses/Error"
          }
        }
      }
    },
    "/api/npcs/{id}/memories/search": {
      "get": {
        "summary": "An NPC's memories most like the query, best first",
        "tags": [
          "Search"
        ],
        "parameters": [
          {
            "$ref": "#/components/parameters/NPCId"
          },
          {
            "name": "q",
            "in": "query",
            "required": true,
            "schema": {
              "type": "string",
              "minLength": 1,
              "maxLength": 2000
            }
          },
          {
            "name": "limit",
            "in": "query",
            "schema": {
              "type": "integer",
              "minimum": 1,
              "maximum": 100
            }
          },
          {
            "$ref": "#/components/parameters/SearchMode"
          }
        ],
        "responses": {
          "200": {
            "description": "Hits with scores",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "required": [
                    "results"
                  ],
                  "properties": {
                    "npc_id": {
                      "type": "string",
                      "format": "uuid"
                    },
                    "results": {
                      "type": "array",
                      "items": {
                        "type": "object",
                        "properties": {
                          "memory_id": {
                            "type": "string"
                          },
                          "content": {
                            "type": "string"
                          },
                          "score": {
                            "type": "number"
                          }
                        }
                      }
                    }
                  }
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Error"
          },
          "404": {
            "$ref": "#/components/responses/Error"
          },
          "503": {
            "$ref": "#/components/responses/Error"
          }
        }
      }
    },
    "/api/npcs/{id}/knowledge/search": {
      "get": {
        "summary": "An NPC's knowledge most like the query, best first",
        "tags": [
          "Search"
        ],
        "parameters": [
          {
            "$ref": "#/components/parameters/NPCId"
          },
          {
            "name": "q",
            "in": "query",
            "required": true,
            "schema": {
              "type": "string",
              "minLength": 1,
              "maxLength": 2000
            }
          },
          {
            "name": "limit",
            "in": "query",
            "schema": {
              "type": "integer",
              "minimum": 1,
              "maximum": 100
            }
          },
          {
            "$ref": "#/components/parameters/SearchMode"
          }
        ],
        "responses": {
          "200": {
            "description": "Hits with scores",
            "content": {
              "application/json": {
                "schema": {
                  "type": "object",
                  "required": [
                    "results"
                  ],
                  "properties": {
                    "npc_id": {
                      "type": "string",
                      "format": "uuid"
                    },
                    "results": {
                      "type": "array",
                      "items": {
                        "type": "object",
                        "properties": {
                          "knowledge_id": {
                            "type": "string"
                          },
                          "text": {
                            "type": "string"
                          },
                          "score": {
                            "type": "number"
                          }
                        }
                      }
                    }
                  }
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/Error"
          },
          "404": {
            "$ref": "#/components/responses/Error"
          },
          "503": {
            "$ref": "#/components/responses/Error"
          }
        }
      }
    }
  },
  "components": {
    "parameters": {
      "NPCId": {
        "name": "id",
        "in": "path",
        "required": true,
        "schema": {
          "type": "string",
          "format": "uuid"
        }
      },
      "Revision": {
        "name": "revision",
        "in": "path",
        "required": true,
        "schema": {
          "type": "integer",
          "minimum": 1
        }
      },
      "SessionId": {
        "name": "id",
        "in": "path",
        "required": true,
        "schema": {
          "type": "string",
          "format": "uuid"
        },
        "description": "The session_id from /api/conversations/start"
      },
      "SearchMode": {
        "name": "mode",
        "in": "query",
        "required": false,
        "schema": {
          "type": "string",
          "enum": [
            "lexical",
            "vector",
            "hybrid"
          ],
          "default": "hybrid"
        },
        "description": "Word search (BM25), vector search, or both fused by reciprocal rank. Without embeddings, hybrid is word search alone."
      }
    },
    "responses": {
      "Error": {
        "description": "An error",
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      }
    },
    "schemas": {
      "Error": {
        "type": "object",
        "required": [
          "error"
        ],
        "properties": {
          "error": {
            "type": "object",
            "required": [
              "code",
              "message"
            ],
            "properties": {
              "code": {
                "type": "string"
              },
              "message": {
                "type": "string"
              },
              "details": {
                "description": "For validation_failed: {\"issues\": [{\"path\", \"message\"}]}"
              }
            }
          }
        }
      },
      "LifeStrand": {
        "type": "object",
        "required": [
          "name"
        ],
        "additionalProperties": true,
        "description": "Unknown fields, at any level, are kept unchanged.",
        "properties": {
          "name": {
            "type": "string",
            "minLength": 1,
            "maxLength": 200
          },
          "background": {
            "type": "object",
            "additionalProperties": true,
            "properties": {
              "age": {
                "type": "integer",
                "minimum": 0,
                "maximum": 10000
              },
              "occupation": {
                "type": "string"
              },
              "location": {
                "type": "string"
              },
              "history": {
                "type": "string"
              }
            }
          },
          "personality": {
            "type": "object",
            "additionalProperties": true,
            "properties": {
              "traits": {
                "type": "array",
                "items": {
                  "type": "string"
                },
                "maxItems": 64
              },
              "motivations": {
                "type": "array",
                "items": {
                  "type": "string"
                },
                "maxItems": 64
              },
              "fears": {
                "type": "array",
                "items": {
                  "type": "string"
                },
                "maxItems": 64
              }
            }
          },
          "current_status": {
            "type": "object",
            "additionalProperties": true,
            "properties": {
              "mood": {
                "type": "string"
              },
              "health": {
                "type": "string"
              },
              "energy": {
                "type": "string"
              }
            }
          },
          "relationships": {
            "type": "object",
            "description": "Keyed by the other party's id",
            "additionalProperties": {
              "$ref": "#/components/schemas/Relationship"
            }
          },
          "knowledge": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/KnowledgeItem"
            }
          },
          "memories": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/Memory"
            }
          },
          "share_player_memories": {
            "type": "boolean",
            "default": false,
            "description": "Whether what one player tells the NPC may come to mind in another player's conversation, with who said it."
          }
        }
      },
      "Relationship": {
        "type": "object",
        "additionalProperties": true,
        "properties": {
          "kind": {
            "type": "string",
            "default": "acquaintance"
          },
          "affinity": {
            "type": "integer",
            "minimum": -100,
            "maximum": 100,
            "default": 0
          },
          "trust": {
            "type": "integer",
            "minimum": 0,
            "maximum": 100,
            "default": 50
          },
          "notes": {
            "type": "string"
          },
          "interaction_count": {
            "type": "integer",
            "minimum": 0,
            "default": 0
          },
          "last_interaction_at": {
            "type": "string",
            "format": "date-time"
          }
        }
      },
      "KnowledgeItem": {
        "type": "object",
        "required": [
          "topic",
          "content"
        ],
        "additionalProperties": true,
        "properties": {
          "id": {
            "type": "string"
          },
          "topic": {
            "type": "string"
          },
          "content": {
            "type": "string"
          },
          "confidence": {
            "type": "number",
            "minimum": 0,
            "maximum": 1,
            "default": 1
          },
          "source": {
            "type": "string"
          },
          "learned_at": {
            "type": "string",
            "format": "date-time"
          },
          "player": {
            "type": "string",
            "description": "The player it was learned from; absent for world knowledge, which every conversation may use."
          }
        }
      },
      "Memory": {
        "type": "object",
        "required": [
          "content"
        ],
        "additionalProperties": true,
        "properties": {
          "id": {
            "type": "string"
          },
          "content": {
            "type": "string"
          },
          "importance": {
            "type": "integer",
            "minimum": 1,
            "maximum": 10,
            "default": 5
          },
          "emotional_impact": {
            "type": "number",
            "minimum": -1,
            "maximum": 1,
            "default": 0
          },
          "participants": {
            "type": "array",
            "items": {
              "type": "string"
            }
          },
          "kind": {
            "type": "string",
            "enum": [
              "observation",
              "conversation",
              "reflection",
              "statement"
            ],
            "default": "observation",
            "description": "observation: inferred or told, in the NPC's words (what an analysis writes); conversation: one finished conversation, who, when and what was said; reflection: an insight drawn from other memories; statement: one thing a player said, verbatim."
          },
          "created_at": {
            "type": "string",
            "format": "date-time"
          },
          "last_accessed_at": {
            "type": "string",
            "format": "date-time"
          },
          "player": {
            "type": "string",
            "description": "The player whose conversation it comes from: recalled only in that player's conversations unless share_player_memories is on. Absent for memories every conversation may use."
          }
        }
      },
      "NPC": {
        "type": "object",
        "required": [
          "npc_id",
          "revision",
          "life_strand"
        ],
        "properties": {
          "npc_id": {
            "type": "string",
            "format": "uuid"
          },
          "revision": {
            "type": "integer"
          },
          "created_at": {
            "type": "string",
            "format": "date-time"
          },
          "updated_at": {
            "type": "string",
            "format": "date-time"
          },
          "life_strand": {
            "$ref": "#/components/schemas/LifeStrand"
          }
        }
      },
      "NPCSummary": {
        "type": "object",
        "properties": {
          "npc_id": {
            "type": "string",
            "format": "uuid"
          },
          "name": {
            "type": "string"
          },
          "occupation": {
            "type": [
              "string",
              "null"
            ]
          },
          "location": {
            "type": [
              "string",
              "null"
            ]
          },
          "mood": {
            "type": [
              "string",
              "null"
            ]
          },
          "revision": {
            "type": "integer"
          },
          "updated_at": {
            "type": "string",
            "format": "date-time"
          }
        }
      },
      "NPCPage": {
        "type": "object",
        "required": [
          "npcs",
          "next_cursor"
        ],
        "properties": {
          "npcs": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/NPCSummary"
            }
          },
          "next_cursor": {
            "type": [
              "string",
              "null"
            ]
          }
        }
      },
      "Revision": {
        "type": "object",
        "properties": {
          "npc_id": {
            "type": "string",
            "format": "uuid"
          },
          "revision": {
            "type": "integer"
          },
          "change": {
            "type": "string",
            "enum": [
              "created",
              "replaced",
              "patched",
              "restored",
              "imported",
              "summarized",
              "approved"
            ]
          },
          "restored_from": {
            "type": [
              "integer",
              "null"
            ]
          },
          "created_at": {
            "type": "string",
            "format": "date-time"
          },
          "name": {
            "type": "string"
          },
          "life_strand": {
            "$ref": "#/components/schemas/LifeStrand"
          }
        }
      },
      "Health": {
        "type": "object",
        "properties": {
          "status": {
            "type": "string",
            "enum": [
              "ok",
              "degraded"
            ]
          },
          "version": {
            "type": "string"
          },
          "uptime_seconds": {
            "type": "number"
          },
          "database": {
            "type": "object",
            "properties": {
              "kind": {
                "type": "string"
              },
              "status": {
                "type": "string"
              },
              "detail": {
                "type": "string"
              },
              "migrations": {
                "type": "array",
                "items": {
                  "type": "string"
                }
              }
            }
          }
        }
      },
      "ModelStatus": {
        "type": "object",
        "properties": {
          "models": {
            "type": "array",
            "items": {
              "type": "object",
              "properties": {
                "type": {
                  "type": "string",
                  "enum": [
                    "chat",
                    "summary",
                    "embedding"
                  ]
                },
                "path": {
                  "type": "string"
                },
                "loaded": {
                  "type": "boolean"
                },
                "footprint_bytes": {
                  "type": "integer"
                },
                "sequences": {
                  "type": "integer"
                },
                "in_flight": {
                  "type": "integer"
                },
                "active_sequences": {
                  "type": "integer"
                },
                "cached_conversations": {
                  "type": "integer"
                },
                "recent_tokens_per_second": {
                  "type": "number"
                }
              }
            }
          },
          "memory": {
            "type": "object",
            "properties": {
              "budget_bytes": {
                "type": "integer"
              },
              "resident_bytes": {
                "type": "integer"
              }
            }
          },
          "devices": {
            "type": "array",
            "items": {
              "type": "object",
              "properties": {
                "name": {
                  "type": "string"
                },
                "kind": {
                  "type": "string"
                },
                "free_bytes": {
                  "type": "integer"
                },
                "total_bytes": {
                  "type": "integer"
                }
              }
            }
          },
          "active_sequences": {
            "type": "integer"
          },
          "queue_depth": {
            "type": "integer"
          },
          "recent_tokens_per_second": {
            "type": "number"
          }
        }
      },
      "GenerateRequest": {
        "type": "object",
        "description": "Give prompt (raw text) or messages (formatted with the model's chat template).",
        "properties": {
          "prompt": {
            "type": "string",
            "minLength": 1
          },
          "messages": {
            "type": "array",
            "minItems": 1,
            "items": {
              "type": "object",
              "required": [
                "role",
                "content"
              ],
              "properties": {
                "role": {
                  "type": "string",
                  "enum": [
                    "system",
                    "user",
                    "assistant"
                  ]
                },
                "content": {
                  "type": "string"
                }
              }
            }
          },
          "max_tokens": {
            "type": "integer",
            "minimum": 1,
            "maximum": 4096,
            "default": 256
          },
          "temperature": {
            "type": "number",
            "minimum": 0,
            "maximum": 5,
            "default": 0.8
          },
          "top_k": {
            "type": "integer",
            "minimum": 0,
            "maximum": 1000,
            "default": 40
          },
          "top_p": {
            "type": "number",
            "minimum": 0,
            "maximum": 1,
            "default": 0.95
          },
          "min_p": {
            "type": "number",
            "minimum": 0,
            "maximum": 1,
            "default": 0.05
          },
          "repeat_penalty": {
            "type": "number",
            "minimum": 0.1,
            "maximum": 5,
            "default": 1.1
          },
          "seed": {
            "type": "integer",
            "minimum": 0,
            "maximum": 4294967295
          },
          "stop": {
            "type": "array",
            "maxItems": 8,
            "items": {
              "type": "string",
              "minLength": 1
            }
          },
          "json_schema": {
            "type": "object",
            "description": "The output will be JSON valid against this schema (integer bounds are enforced, number bounds are not)"
          },
          "conversation_id": {
            "type": "string",
            "maxLength": 200,
            "description": "Turns with the same id reuse the KV cache of the previous turn"
          },
          "model": {
            "type": "string",
            "enum": [
              "chat",
              "summary"
            ],
            "default": "chat",
            "description": "The summary model (a base model by default) takes prompt, not messages"
          },
          "reuse_cache": {
            "type": "boolean",
            "default": true,
            "description": "false evaluates the whole prompt even when a cached prefix could stand in (for measuring)"
          }
        }
      },
      "GenerateLine": {
        "oneOf": [
          {
            "type": "object",
            "required": [
              "token"
            ],
            "properties": {
              "token": {
                "type": "string"
              }
            }
          },
          {
            "type": "object",
            "required": [
              "done"
            ],
            "properties": {
              "done": {
                "const": true
              },
              "finish_reason": {
                "type": "string",
                "enum": [
                  "stop",
                  "length",
                  "stop_string"
                ]
              },
              "prompt_tokens": {
                "type": "integer"
              },
              "cached_tokens": {
                "type": "integer"
              },
              "generated_tokens": {
                "type": "integer"
              },
              "time_to_first_token_ms": {
                "type": "number"
              },
              "tokens_per_second": {
                "type": "number"
              }
            }
          },
          {
            "$ref": "#/components/schemas/Error"
          }
        ]
      },
      "Usage": {
        "type": "object",
        "required": [
          "prompt_tokens",
          "cached_tokens",
          "completion_tokens",
          "time_to_first_token_ms",
          "tokens_per_second"
        ],
        "properties": {
          "prompt_tokens": {
            "type": "integer"
          },
          "cached_tokens": {
            "type": "integer",
            "description": "Prompt tokens reused from the conversation's earlier turns"
          },
          "completion_tokens": {
            "type": "integer"
          },
          "time_to_first_token_ms": {
            "type": "number"
          },
          "tokens_per_second": {
            "type": "number"
          }
        }
      },
      "Conversation": {
        "type": "object",
        "required": [
          "session_id",
          "npc_id",
          "user_id",
          "state",
          "started_at",
          "last_activity_at",
          "message_count"
        ],
        "properties": {
          "session_id": {
            "type": "string",
            "format": "uuid"
          },
          "npc_id": {
            "type": "string",
            "format": "uuid"
          },
          "user_id": {
            "type": "string"
          },
          "state": {
            "type": "string",
            "enum": [
              "active",
              "ended"
            ]
          },
          "started_at": {
            "type": "string",
            "format": "date-time"
          },
          "last_activity_at": {
            "type": "string",
            "format": "date-time"
          },
          "ended_at": {
            "type": [
              "string",
              "null"
            ],
            "format": "date-time"
          },
          "end_reason": {
            "type": [
              "string",
              "null"
            ],
            "enum": [
              "ended",
              "timeout",
              null
            ]
          },
          "message_count": {
            "type": "integer"
          }
        }
      },
      "Message": {
        "type": "object",
        "required": [
          "message_id",
          "role",
          "content",
          "complete",
          "created_at"
        ],
        "properties": {
          "message_id": {
            "type": "string",
            "format": "uuid"
          },
          "role": {
            "type": "string",
            "enum": [
              "user",
              "npc"
            ]
          },
          "content": {
            "type": "string"
          },
          "complete": {
            "type": "boolean",
            "description": "False for a reply cut short when the client went away"
          },
          "created_at": {
            "type": "string",
            "format": "date-time"
          },
          "usage": {
            "oneOf": [
              {
                "$ref": "#/components/schemas/Usage"
              },
              {
                "type": "null"
              }
            ]
          }
        }
      },
      "Transcript": {
        "allOf": [
          {
            "$ref": "#/components/schemas/Conversation"
          },
          {
            "type": "object",
            "required": [
              "messages"
            ],
            "properties": {
              "messages": {
                "type": "array",
                "items": {
                  "$ref": "#/components/schemas/Message"
                }
              }
            }
          }
        ]
      },
      "ReplyLine": {
        "type": "object",
        "description": "{\"token\"} while the reply is generated; then {\"done\": true, \"message_id\", \"session_id\", \"usage\"}; or {\"error\"}",
        "properties": {
          "token": {
            "type": "string"
          },
          "done": {
            "type": "boolean"
          },
          "message_id": {
            "type": "string",
            "format": "uuid"
          },
          "session_id": {
            "type": "string",
            "format": "uuid"
          },
          "usage": {
            "$ref": "#/components/schemas/Usage"
          },
          "error": {
            "type": "object"
          }
        }
      },
      "ConversationAnalysis": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "summary",
          "key_points",
          "new_memories",
          "relationship_updates",
          "learned_knowledge",
          "personality_changes",
          "status_changes",
          "confidence"
        ],
        "properties": {
          "summary": {
            "type": "string",
            "minLength": 1,
            "maxLength": 200
          },
          "key_points": {
            "type": "array",
            "maxItems": 3,
            "items": {
              "type": "string",
              "minLength": 1,
              "maxLength": 80
            }
          },
          "new_memories": {
            "type": "array",
            "maxItems": 6,
            "items": {
              "type": "object",
              "additionalProperties": false,
              "required": [
                "line",
                "content",
                "importance",
                "emotional_impact"
              ],
              "properties": {
                "line": {
                  "type": "integer",
                  "minimum": 1,
                  "maximum": 200
                },
                "content": {
                  "type": "string",
                  "minLength": 1,
                  "maxLength": 120
                },
                "importance": {
                  "type": "integer",
                  "minimum": 1,
                  "maximum": 10
                },
                "emotional_impact": {
                  "type": "number",
                  "minimum": -1,
                  "maximum": 1
                }
              }
            }
          },
          "relationship_updates": {
            "type": "array",
            "maxItems": 1,
            "items": {
              "type": "object",
              "additionalProperties": false,
              "required": [
                "who",
                "affinity_delta",
                "trust_delta",
                "reason"
              ],
              "properties": {
                "who": {
                  "type": "string",
                  "minLength": 1,
                  "maxLength": 40
                },
                "affinity_delta": {
                  "type": "integer",
                  "minimum": -20,
                  "maximum": 20
                },
                "trust_delta": {
                  "type": "integer",
                  "minimum": -20,
                  "maximum": 20
                },
                "reason": {
                  "type": "string",
                  "maxLength": 100
                }
              }
            }
          },
          "learned_knowledge": {
            "type": "array",
            "maxItems": 3,
            "items": {
              "type": "object",
              "additionalProperties": false,
              "required": [
                "line",
                "topic",
                "content",
                "confidence"
              ],
              "properties": {
                "line": {
                  "type": "integer",
                  "minimum": 1,
                  "maximum": 200
                },
                "topic": {
                  "type": "string",
                  "minLength": 1,
                  "maxLength": 40
                },
                "content": {
                  "type": "string",
                  "minLength": 1,
                  "maxLength": 120
                },
                "confidence": {
                  "type": "number",
                  "minimum": 0,
                  "maximum": 1
                }
              }
            }
          },
          "personality_changes": {
            "type": "array",
            "maxItems": 1,
            "items": {
              "type": "object",
              "additionalProperties": false,
              "required": [
                "trait",
                "change",
                "evidence"
              ],
              "properties": {
                "trait": {
                  "type": "string",
                  "minLength": 1,
                  "maxLength": 30
                },
                "change": {
                  "type": "string",
                  "enum": [
                    "add",
                    "remove",
                    "strengthen",
                    "weaken"
                  ]
                },
                "evidence": {
                  "type": "string",
                  "maxLength": 100
                }
              }
            }
          },
          "status_changes": {
            "type": "object",
            "additionalProperties": false,
            "properties": {
              "mood": {
                "type": "string",
                "maxLength": 24
              },
              "energy": {
                "type": "string",
                "maxLength": 24
              },
              "health": {
                "type": "string",
                "maxLength": 24
              }
            }
          },
          "confidence": {
            "type": "number",
            "minimum": 0,
            "maximum": 1
          }
        }
      },
      "StoredAnalysis": {
        "type": "object",
        "required": [
          "analysis_id",
          "session_id",
          "npc_id",
          "user_id",
          "state",
          "analysis",
          "confidence",
          "confidence_notes",
          "created_at"
        ],
        "properties": {
          "analysis_id": {
            "type": "string",
            "format": "uuid"
          },
          "session_id": {
            "type": "string",
            "format": "uuid"
          },
          "npc_id": {
            "type": "string",
            "format": "uuid"
          },
          "user_id": {
            "type": "string"
          },
          "state": {
            "type": "string",
            "enum": [
              "applied",
              "pending",
              "approved",
              "rejected"
            ]
          },
          "analysis": {
            "$ref": "#/components/schemas/ConversationAnalysis"
          },
          "review_notes": {
            "type": "array",
            "items": {
              "type": "string"
            },
            "description": "What code dropped from the model's proposal (a non-party, a word outside the vocabulary), and why"
          },
          "confidence": {
            "type": "number",
            "description": "After the confidence rule"
          },
          "confidence_notes": {
            "type": "array",
            "items": {
              "type": "string"
            }
          },
          "revision": {
            "type": [
              "integer",
              "null"
            ]
          },
          "created_at": {
            "type": "string",
            "format": "date-time"
          },
          "decided_at": {
            "type": [
              "string",
              "null"
            ],
            "format": "date-time"
          },
          "proposed_change": {
            "type": "object",
            "description": "Pending only: the JSON Merge Patch approving would apply to the Life Strand now"
          }
        }
      },
      "SummaryJob": {
        "type": "object",
        "required": [
          "job_id",
          "session_id",
          "state",
          "attempts",
          "max_attempts",
          "next_run_at",
          "created_at",
          "updated_at"
        ],
        "properties": {
          "job_id": {
            "type": "string",
            "format": "uuid"
          },
          "session_id": {
            "type": "string",
            "format": "uuid"
          },
          "state": {
            "type": "string",
            "enum": [
              "queued",
              "running",
              "done",
              "dead"
            ]
          },
          "attempts": {
            "type": "integer"
          },
          "max_attempts": {
            "type": "integer"
          },
          "next_run_at": {
            "type": "string",
            "format": "date-time"
          },
          "last_error": {
            "type": [
              "string",
              "null"
            ]
          },
          "created_at": {
            "type": "string",
            "format": "date-time"
          },
          "updated_at": {
            "type": "string",
            "format": "date-time"
          }
        }
      }
    }
  }
}
"""#
}
