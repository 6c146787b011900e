"""Reading free-text answers, offline: the language, jieba's words (with the DictionaryWord
user dictionary), the FeedbackTopic keywords they contain and a sentiment score.

segmentation (jieba, once per process), language, topics, sentiment (snownlp's Bayes model
and VADER, each with a domain lexicon) and score (the set-based batch job and the marking of
every answer as unread when the rules change).
"""
