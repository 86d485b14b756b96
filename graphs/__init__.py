"""Graph machinery that knows no RAG: knowledge-graph build, synonymy kNN, Personalized PageRank.

Empty until the knowledge-graph index lands; see DESIGN.md for what goes here.
"""
