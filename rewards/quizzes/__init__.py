"""Quizzes: questions with choices, answered once per member, a few points per right answer."""
